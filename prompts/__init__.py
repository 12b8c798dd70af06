"""Prompts are data: versioned template files, rendered strictly.

Contract:
- Each file ``prompts/templates/<id>@<version>.yaml`` holds one prompt version: ``id``, ``version``,
  ``description``, ``inputs`` (the variables it needs) and a Jinja2 ``template``. A file is never edited
  once released: a change is a new version. ``id@version`` names one exactly; a bare ``id`` means its
  highest version.
- ``role`` names the role the prompt serves (``reviewer.review``, ``copywriter.draft``...; unset: its
  ``id``). The roles — what each is given and what it answers — are defined in :mod:`agents.roles`; a
  pipeline plugs a prompt only into a slot of its role, checked when the pipeline loads. This package does
  not know the roles (it imports nothing from ``agents``): it records ``role`` and the JSON keys a
  template writes out by hand (``Prompt.json_keys``) for that check. A metadata field such as ``role``
  may be added to a released file only when its rendered text stays the same.
- Loading checks that the file name matches ``id@version`` and that the declared ``inputs`` are exactly
  the template's free variables, so a typo fails at load, not mid-campaign.
- Rendering uses Jinja2's sandbox with ``StrictUndefined``: a missing variable is an error.
- ``thread: true`` makes a prompt a turn in the campaign's conversation: it is sent after the earlier
  turns of its thread and may refer to them ("the brief above"), so a shared prefix is evaluated once
  (see :func:`agents.base.ask`).
- ``Prompt.hash`` (sha256 of the file's bytes, 12 hex) goes into every trace entry.
"""

from prompts.registry import Prompt, PromptError, PromptRegistry, default_registry

__all__ = ["Prompt", "PromptError", "PromptRegistry", "default_registry"]
