"""The partial-update steps of the services that update a model (HackSoft's `model_update`, split in two
so that a service can check its rules between them): set the given fields that are present in `data` and
actually change, then stamp who changed them and write only those columns."""

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
