"""The two staff roles. Course authors build and preview courses; registrars look after
enrollments, certificates and rosters and cannot edit courses. Superusers are for operators.

Created by a data migration, and synced again after every migrate (and after the test suite
flushes the database), so the groups always hold exactly these permissions."""

ROLES = {
    "Course authors": [
        ("courses", "course", ["add", "change", "view"]),
        ("courses", "lesson", ["add", "change", "delete", "view"]),
        ("courses", "learningobjective", ["add", "change", "delete", "view"]),
        ("courses", "reference", ["add", "change", "delete", "view"]),
        ("courses", "courseapproval", ["add", "change", "delete", "view"]),
        ("courses", "question", ["add", "change", "delete", "view"]),
        ("courses", "choice", ["add", "change", "delete", "view"]),
        ("courses", "topic", ["add", "change", "view"]),
        ("courses", "episode", ["add", "change", "view"]),
        ("courses", "accreditor", ["view"]),
        ("courses", "policy", ["view"]),
        ("courses", "subjectarea", ["add", "change", "view"]),
        ("courses", "boardrule", ["view"]),
        # The nudge and reminder texts, previewed as learners read them.
        ("courses", "reengagementsettings", ["view"]),
    ],
    "Registrars": [
        ("courses", "course", ["view"]),
        ("courses", "enrollment", ["view"]),
        ("courses", "lessonprogress", ["view"]),
        ("courses", "quizattempt", ["view"]),
        ("courses", "evaluationresponse", ["view"]),
        ("courses", "certificate", ["view", "revoke"]),
        ("courses", "certificateevent", ["view"]),
        ("courses", "repeatallowance", ["add", "view"]),
        ("courses", "logentry", ["view"]),
        # CE Broker rosters: generated, downloaded and marked posted; never edited or deleted.
        ("courses", "cebrokerroster", ["add", "view", "post"]),
        # Only the CE Broker course number is editable on an approval outside its course.
        ("courses", "courseapproval", ["change", "view"]),
        # Board rules are compliance facts: registrars keep them sourced and current.
        ("courses", "boardrule", ["add", "change", "view"]),
        ("courses", "subjectrequirement", ["add", "change", "delete", "view"]),
        ("courses", "acceptedapproval", ["add", "change", "delete", "view"]),
        ("courses", "subjectarea", ["view"]),
        ("accounts", "user", ["view"]),
        ("accounts", "licence", ["view"]),
        # They may see when the upkeep runs; pausing or changing it is for operators.
        ("django_celery_beat", "periodictask", ["view"]),
        # Nudges: the days, the message previews, what went, and addresses closed by a bounce
        # (deleting one lets optional mail go to it again).
        ("courses", "reengagementsettings", ["change", "view"]),
        ("courses", "sentmessage", ["view"]),
        ("courses", "mailsuppression", ["add", "delete", "view"]),
    ],
}


def sync_roles(group_model, permission_model, *, missing_ok: bool = False) -> None:
    """Create the role groups and give each exactly its permissions. An early migration runs
    before later models exist (`missing_ok`); the sync after every migrate completes the set."""
    for name, grants in ROLES.items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = [
            (app, f"{action}_{model}") for app, model, actions in grants for action in actions
        ]
        permissions = []
        for app, codename in wanted:
            found = permission_model.objects.filter(
                content_type__app_label=app, codename=codename
            ).first()
            if found is None and not missing_ok:
                raise LookupError(f"No permission {app}.{codename}")
            if found is not None:
                permissions.append(found)
        group.permissions.set(permissions)


def sync_roles_after_migrate(sender, apps=None, **kwargs) -> None:
    # `migrate` passes the migrated state's apps; `flush` (between transactional tests) does not.
    if apps is None:
        from django.apps import apps
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))
