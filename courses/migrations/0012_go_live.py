from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0011_scheduled_work"),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="is_published",
            field=models.BooleanField(
                default=True,
                help_text=(
                    "Off for a draft: the public page then says the policy is not published yet, "
                    "and the go-live checklist fails until it is."
                ),
                verbose_name="published",
            ),
        ),
    ]
