"""The Markdown fields kept beside their sanitised HTML, rendered when saved instead of on every
page; the rows already stored are rendered here."""

from django.db import migrations, models

from ceu.markdown import html_to_store

FIELDS = {
    "Course": (("description", "description_html"), ("presenter_bio", "presenter_bio_html")),
    "Lesson": (("body", "body_html"),),
    "Policy": (("body", "body_html"),),
}


def render_stored_markdown(apps, schema_editor):
    for name, pairs in FIELDS.items():
        model = apps.get_model("courses", name)
        rows = list(model.objects.only("pk", *(source for source, _target in pairs)))
        for row in rows:
            for source, target in pairs:
                setattr(row, target, html_to_store(getattr(row, source)))
        # bulk_update: no save signals, so no history row and no content guard for a rendering.
        model.objects.bulk_update(rows, [target for _source, target in pairs], batch_size=200)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0013_verifiable_credentials"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="description_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="course",
            name="presenter_bio_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="historicalcourse",
            name="description_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="historicalcourse",
            name="presenter_bio_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="historicallesson",
            name="body_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="lesson",
            name="body_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="policy",
            name="body_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(render_stored_markdown, migrations.RunPython.noop),
    ]
