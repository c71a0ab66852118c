"""Assessment: the post-test's question bank, each attempt with the key it was graded against,
and the course evaluation."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .catalog import Course
from .learning import Enrollment


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("One answer")
        MULTIPLE = "multiple", _("Several answers")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    text = models.TextField(_("question"))
    explanation = models.TextField(
        _("explanation"),
        help_text=_(
            "Shown once the learner has passed or used the last attempt: why the answer is right."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint("course", "position", name="courses_question_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:80]}"


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("choice"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint("question", "position", name="courses_choice_position_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class QuizAttempt(models.Model):
    """One sitting of the post-test. It keeps the order it was shown in and a snapshot of the
    questions and key it is graded against, so editing the bank later changes no stored grade."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    # [{"id": question id, "kind": ..., "text": ..., "explanation": ...,
    #   "choices": [{"id": choice id, "text": ..., "correct": bool}, ...]}, ...]
    # in the order shown, choices shuffled; the key never leaves the server before grading.
    questions = models.JSONField(_("questions as shown, with the key"))
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    score = models.DecimalField(
        _("score (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    passed = models.BooleanField(_("passed"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-test attempt")
        verbose_name_plural = _("post-test attempts")
        ordering = ["enrollment", "number"]
        constraints = [
            models.UniqueConstraint("enrollment", "number", name="courses_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment}: attempt {self.number}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class EvaluationResponse(models.Model):
    """The learner's evaluation of the course: required before the certificate, once, and
    kept as given (the objectives are copied in, as worded when rated)."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="evaluation"
    )
    # [{"objective": text as worded, "rating": 1..5}, ...] in the course's order.
    objective_ratings = models.JSONField(_("ratings of the learning objectives"))
    learned_rating = models.PositiveSmallIntegerField(
        _("How much did you learn as a result of this CE program?"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    usefulness_rating = models.PositiveSmallIntegerField(
        _(
            "How useful was the content of this CE program for your practice or other "
            "professional development?"
        ),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    presenter_rating = models.PositiveSmallIntegerField(
        _("presenter"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comments = models.TextField(_("comments"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"Evaluation of {self.enrollment}"


# What a learner attests before the certificate (CAMFT: the learner personally completed it).
ATTESTATION_TEXT = _("I completed this training myself.")
