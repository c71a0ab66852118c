from django.db import models


class Item(models.Model):
    """A row looked up by its unique (indexed) code, as a verify page looks up a certificate."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.code
