"""The one partial-update step every service uses (HackSoft's `model_update`): set the given fields that
are present in `data` and actually change, stamp who changed them, and write only those columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from django.db import models

from config.kernel.actors import Actor

M = TypeVar("M", bound=models.Model)


def model_set(*, instance: M, fields: Iterable[str], data: Mapping) -> list[str]:
    """Set on `instance` each of `fields` present in `data` whose value differs; the names changed.
    Nothing is written: the caller checks its rules on the changed instance, then calls model_save."""
    changed = []
    for name in fields:
        if name in data and getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    return changed


def model_save(*, instance: M, changed: Iterable[str], actor: Actor) -> M:
    """Write the changed columns, with `updated_by` (and `updated_at`, which auto_now fills) when the model
    has them. An update that changed nothing writes nothing."""
    columns = list(dict.fromkeys(changed))
    if not columns:
        return instance
    names = {f.name for f in instance._meta.concrete_fields}
    if "updated_by" in names:
        instance.updated_by = actor.label
        columns.append("updated_by")
    if "updated_at" in names:
        columns.append("updated_at")
    instance.save(update_fields=columns)
    return instance


def model_update(*, instance: M, fields: Iterable[str], data: Mapping, actor: Actor) -> tuple[M, bool]:
    """model_set then model_save, for updates with no rule to check in between."""
    changed = model_set(instance=instance, fields=fields, data=data)
    model_save(instance=instance, changed=changed, actor=actor)
    return instance, bool(changed)
