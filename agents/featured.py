"""The product a piece is about, where its channel features one (``features: product``).

Contract: :func:`featured_product` picks it from the brand's products and the brief, the same way for
every agent that asks (the copywriter drafts and lengthens the piece about it, the spotlight retrieves
its documents, compliance refills a blog with it), so they all mean the same product.
"""

from __future__ import annotations

from agents.channels import ChannelSpec
from agents.state import CreativeBrief
from knowledge.brand import Brand, Product
from policy.claims import coverage
from policy.facts import mentioned_products


def featured_product(brand: Brand, brief: CreativeBrief, channel: ChannelSpec) -> Product | None:
    """The product a piece of ``channel`` is about where the channel features one
    (``features: product``, the e-mail): the first of the brand's products the brief's angle for the
    channel names, else the one its key messages name most (the first of those on a tie), else the one
    whose sheet shares most words with the angle, else the first. None for a channel about the brand or
    a brand with no products."""
    if channel.features != "product" or not brand.products:
        return None
    sheets = {p.name: list(p.facts) for p in brand.products}
    angle = brief.channel_angles.get(channel.name, "")
    named = mentioned_products(angle, sheets)
    if named:
        return next(p for p in brand.products if p.name in named)
    counts = {p.name: 0 for p in brand.products}
    for message in brief.key_messages:
        for name in mentioned_products(message.text, sheets):
            counts[name] += 1
    if max(counts.values()) > 0:
        return max(brand.products, key=lambda p: counts[p.name])
    return max(
        brand.products,
        key=lambda p: coverage(angle, " ".join([p.name, p.description, *p.facts])) if angle else 0,
    )
