"""Brand monitoring: what customers say about a brand and its rivals, turned into insights a campaign uses.

``monitor.run.run_monitor`` (also ``pipelines.run_monitor`` and ``brandforge monitor``) reads mentions
(:mod:`monitor.mentions`), masks personal data (:mod:`monitor.privacy`), finds each mention's language,
brands, aspects and sentiment (:mod:`monitor.language`, :mod:`monitor.brands`, :mod:`monitor.aspects`,
:mod:`monitor.sentiment`, and :mod:`monitor.model` where the classifier is unsure), clusters topics
(:mod:`monitor.topics`), finds spikes (:mod:`monitor.alerts`) and writes ``mentions.jsonl``,
``insights.json`` (:mod:`monitor.insights`) and ``report.html`` (:mod:`monitor.report`).
:mod:`monitor.campaign` turns insights into the notes a campaign's strategist cites. docs/monitor.md
describes all of it; nothing here imports ``pipelines``.
"""
