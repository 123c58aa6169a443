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
