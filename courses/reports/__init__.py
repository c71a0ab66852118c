"""Reads for staff compliance reporting, one module per report: the per-course report
(`course`) and the completion roster and CE Broker upload (`rosters`). Each runs a fixed number
of queries however many learners a course has."""

from .course import CourseReport, EvaluationComment, FunnelStep, RatingMean, course_report
from .rosters import (
    CE_BROKER_PROFESSIONS,
    ROSTER_HEADER,
    CeBrokerRefusal,
    CeBrokerRow,
    CompletionFilter,
    ce_broker_rows,
    ce_broker_rows_now,
    credit_types,
    roster_rows,
    standing_certificates,
)

__all__ = [
    "CE_BROKER_PROFESSIONS",
    "ROSTER_HEADER",
    "CeBrokerRefusal",
    "CeBrokerRow",
    "CompletionFilter",
    "CourseReport",
    "EvaluationComment",
    "FunnelStep",
    "RatingMean",
    "ce_broker_rows",
    "ce_broker_rows_now",
    "course_report",
    "credit_types",
    "roster_rows",
    "standing_certificates",
]
