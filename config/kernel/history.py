"""The append-only base of every history table (credit events, discount usages, billing transactions)."""

from django.db import models


class AppendOnlyModel(models.Model):
    """History rows are written once. PostgreSQL also refuses UPDATE and DELETE on these tables with a
    trigger (see the migrations), so not even raw SQL can rewrite history."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} rows are append-only")


class RecordedByModel(AppendOnlyModel):
    """A history row that names who wrote it: the label of an actor (config.kernel.actors.Actor.label).
    Required: no history row is written without its actor."""

    created_by = models.CharField(max_length=200)

    class Meta:
        abstract = True


class ActorStampedModel(models.Model):
    """Who wrote a row and who last changed it: the label of an actor (config.kernel.actors.Actor.label),
    set by the services; `model_save` stamps `updated_by`. Empty for rows written before the columns
    existed, and by raw SQL (the database default). A model whose changes are not stamped sets
    `updated_by = None` (no such column)."""

    created_by = models.CharField(max_length=200, blank=True, editable=False, db_default="")
    updated_by = models.CharField(max_length=200, blank=True, editable=False, db_default="")

    class Meta:
        abstract = True
