"""Reads of board rules: the rule for a licence, the suggestion the licence form shows, the
renewal cycle a day falls in, and whether a credit counts for a licence under its board's rule.
The licence form, the transcript and the catalog read them here; none hard-codes a state.
Where the site does not know a fact it says so, and an assumption is labelled as one."""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.jurisdictions import Jurisdiction
from accounts.models import Licence, Profession
from courses.models import BoardRule, FactStatus, RenewalBasis, SubjectRequirement

# Where the board's cycle length is unknown the transcript still needs a window to count in: two
# years, the most common cycle, always labelled as the site's assumption.
ASSUMED_CYCLE_MONTHS = 24

FINAL_WORD = gettext_lazy("Your board has the final word.")


def _rules(*, accepted: bool = True) -> QuerySet[BoardRule]:
    rules = BoardRule.objects.prefetch_related(
        Prefetch(
            "subjects",
            queryset=SubjectRequirement.objects.select_related("subject").order_by(
                "subject__name", "pk"
            ),
        )
    )
    return rules.prefetch_related("accepted") if accepted else rules


def rules_for(licences: Iterable[Licence]) -> dict[tuple[str, str], BoardRule]:
    """The rules for these licences by (jurisdiction, profession), with their subject
    requirements and accepted approvals: from the cache, or three queries for each board not
    read since the content last changed; none when no licence is for a board the site could
    carry."""
    pairs = {
        (licence.jurisdiction, licence.profession)
        for licence in licences
        if licence.jurisdiction != Jurisdiction.OTHER
    }
    if not pairs:
        return {}
    # Rules are reference data, the same for every learner: read from the cache while the
    # content version stands (a rule, its subjects or accepted approvals changed replace it).
    from .catalog import cached_content

    found = cached_content(
        {pair: (f"board-rule:{pair[0]}:{pair[1]}", _rule_of(pair)) for pair in sorted(pairs)},
        per_language=False,  # rows, the same in every language
    )
    return {pair: rule for pair, rule in found.items() if rule}


def _rule_of(pair: tuple[str, str]):
    def build(_values) -> BoardRule | bool:
        # False, not None, for a board the site has no rule for: that is kept too.
        return _rules().filter(jurisdiction=pair[0], profession=pair[1]).first() or False

    return build


def with_board_rules(licences: Iterable[Licence]) -> list[Licence]:
    """The licences, each with `board_rule`: its board's rule, or None where the site has no
    rule for its board. The pages that judge what counts for a licence read it from there."""
    licences = list(licences)
    rules = rules_for(licences)
    for licence in licences:
        licence.board_rule = rules.get((licence.jurisdiction, licence.profession))
    return licences


def rule_for(licence: Licence) -> BoardRule | None:
    """The board's rule for this licence; None where the site has no rule for its board."""
    return rules_for([licence]).get((licence.jurisdiction, licence.profession))


def with_rule_flag(licences: QuerySet[Licence]) -> QuerySet[Licence]:
    """Licences marked `has_rule`, so a page looks rules up only where there are some."""
    return licences.annotate(
        has_rule=Exists(
            BoardRule.objects.filter(
                jurisdiction=OuterRef("jurisdiction"), profession=OuterRef("profession")
            )
        )
    )


# --- Whether a credit counts ---------------------------------------------------------------------


class Acceptance(StrEnum):
    # The board lists this approval body among those it accepts, or states it limits none.
    ACCEPTED = "accepted"
    # The site does not know whose approvals the board accepts: counted, "not confirmed".
    UNCONFIRMED = "unconfirmed"
    # The board lists the approvals it accepts and this one is not among them.
    NOT_ACCEPTED = "not_accepted"


def accepted_bodies(rule: BoardRule | None) -> set[str] | None:
    """The approval bodies a board's rule limits credit to, or None where it limits none or
    that is not known. Uses the rule's prefetched accepted approvals."""
    if rule is None or rule.approvals_status != FactStatus.KNOWN:
        return None
    return {approval.body for approval in rule.accepted.all()}


def acceptance(rule: BoardRule | None, body: str) -> Acceptance:
    """Whether a board accepts credit approved by `body` (an `ApprovalBody` value, "" when
    unknown): the one rule for it, read by the transcript, the catalog, the course page and the
    certificate."""
    bodies = accepted_bodies(rule)
    if bodies is not None:
        return Acceptance.ACCEPTED if body and body in bodies else Acceptance.NOT_ACCEPTED
    if rule is not None and rule.approvals_status == FactStatus.NONE:
        return Acceptance.ACCEPTED
    return Acceptance.UNCONFIRMED


# --- Renewal cycles ------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month: 29
    February plus twelve months is 28 February, 31 August plus six months is 28 or 29 February."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Cycle:
    """A renewal cycle: from `start` to the renewal date `end`, both days included. A
    completion on the renewal date counts in the cycle that ends that day."""

    start: date
    end: date
    months: int
    # The length is the site's assumption (the board's is unknown), not the board's.
    assumed: bool = False
    # The learner's renewal date every cycle is counted from, so that month-end clamping in one
    # cycle never shifts another.
    anchor: date | None = None

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __iter__(self):
        # Unpacks as (start, end).
        return iter((self.start, self.end))

    def days_left(self, on: date) -> int:
        return max(0, (self.end - on).days)


def cycle_months(rule: BoardRule | None) -> tuple[int, bool]:
    """The cycle length in months, and whether it is the site's assumption."""
    if rule is not None and rule.cycle_months:
        return rule.cycle_months, False
    return ASSUMED_CYCLE_MONTHS, True


def _cycle_number(anchor: date, months: int, day: date) -> int:
    """Which cycle a day falls in, counted from the one ending on `anchor` (0): cycle n runs
    from the day after anchor + (n-1) cycles to anchor + n cycles. Every end is worked out from
    the anchor itself, so month-end clamping never drifts from one cycle to the next."""
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    number = -(-elapsed // months)  # ceiling division
    while add_months(anchor, number * months) < day:
        number += 1
    while add_months(anchor, (number - 1) * months) >= day:
        number -= 1
    return number


def _cycle(anchor: date, months: int, number: int, *, assumed: bool) -> Cycle:
    return Cycle(
        start=add_months(anchor, (number - 1) * months) + timedelta(days=1),
        end=add_months(anchor, number * months),
        months=months,
        assumed=assumed,
        anchor=anchor,
    )


def cycle_for(licence: Licence, rule: BoardRule | None, on: date) -> Cycle | None:
    """The licence's renewal cycle on a day: it ends on the learner's renewal date and starts one
    cycle earlier; a renewal date that has passed rolls forward by whole cycles. Where the
    board's cycle length is unknown, a 24-month window marked `assumed`. None without a renewal
    date."""
    if licence.renewal_date is None:
        return None
    months, assumed = cycle_months(rule)
    number = max(0, _cycle_number(licence.renewal_date, months, on))
    return _cycle(licence.renewal_date, months, number, assumed=assumed)


def cycle_of_day(cycle: Cycle, day: date) -> Cycle:
    """The cycle of the same length and renewal date that `day` falls in (past cycles)."""
    anchor = cycle.anchor or cycle.end
    number = _cycle_number(anchor, cycle.months, day)
    return _cycle(anchor, cycle.months, number, assumed=cycle.assumed)


# --- In words ------------------------------------------------------------------------------------


def _month_day(month: int, day: int) -> str:
    # Any leap year prints 29 February.
    return date_format(date(2000, month, min(day, calendar.monthrange(2000, month)[1])), "F j")


def renewal_in_words(rule: BoardRule) -> str:
    """How the board sets the renewal date and how often, as the licence form says it; what the
    site does not know, it says it does not know."""
    if rule.renewal_basis == RenewalBasis.FIXED_DATE and rule.fixed_month and rule.fixed_day:
        when = _("on %(date)s") % {"date": _month_day(rule.fixed_month, rule.fixed_day)}
    elif rule.renewal_basis == RenewalBasis.FIXED_DATE:
        when = _("on a fixed date for every licensee")
    elif rule.renewal_basis == RenewalBasis.BIRTH_MONTH:
        when = _("in your birth month")
    elif rule.renewal_basis == RenewalBasis.ISSUE_DATE:
        when = _("counted from the date your licence was issued")
    else:
        when = ""
    if rule.cycle_months and when:
        words = ngettext(
            "Licences renew every %(months)d month, %(when)s.",
            "Licences renew every %(months)d months, %(when)s.",
            rule.cycle_months,
        ) % {"months": rule.cycle_months, "when": when}
    elif rule.cycle_months:
        words = ngettext(
            "Licences renew every %(months)d month; how the renewal date is set is not known "
            "to this site.",
            "Licences renew every %(months)d months; how the renewal date is set is not known "
            "to this site.",
            rule.cycle_months,
        ) % {"months": rule.cycle_months}
    elif when:
        words = _(
            "Licences renew %(when)s; the length of the renewal cycle is not known to this site."
        ) % {"when": when}
    else:
        words = _(
            "The length of the renewal cycle and how the renewal date is set are not known to "
            "this site."
        )
    if rule.cycle_note:
        words += " " + rule.cycle_note
    return words


def hours_in_words(rule: BoardRule) -> str:
    """The hours a cycle asks for, with the subject requirements and the self-study cap."""
    if rule.hours_required is None:
        parts = [_("This site does not know how many CE hours your board requires per cycle.")]
    else:
        parts = [
            _("%(hours)s CE hours per renewal cycle.") % {"hours": _hours(rule.hours_required)}
        ]
    for requirement in rule.subjects.all():
        parts.append(
            _("Of them, %(hours)s in %(name)s, %(when)s.")
            % {
                "hours": _hours(requirement.hours),
                "name": requirement.name,
                "when": every_n_in_words(requirement.every_n_cycles),
            }
        )
    if rule.self_study_status == FactStatus.KNOWN and rule.self_study_cap_hours is not None:
        parts.append(
            _("At most %(cap)s hours may be %(kind)s.")
            % {
                "cap": _hours(rule.self_study_cap_hours),
                "kind": rule.self_study_kind or _("self-study"),
            }
        )
    elif rule.self_study_status == FactStatus.NONE:
        parts.append(_("Your board sets no cap on self-study hours."))
    else:
        parts.append(_("Whether your board caps self-study hours is not known to this site."))
    if rule.first_cycle_note:
        parts.append(_("First renewal: %(note)s") % {"note": rule.first_cycle_note})
    return " ".join(parts)


def every_n_in_words(every: int) -> str:
    if every <= 1:
        return _("every cycle")
    # No rule on the site says which cycles these fall in, so the site does not guess.
    return ngettext("every %(n)d cycle", "every %(n)d cycles", every) % {"n": every}


def _hours(value: Decimal | None) -> str | None:
    """Hours as text (None where the board's hours are not known to the site)."""
    return None if value is None else f"{value.normalize():f}"


@dataclass(frozen=True)
class RenewalSuggestion:
    """What the licence form suggests for a jurisdiction and profession, from the board's rule."""

    rule: BoardRule
    renewal: str
    hours: str
    # A date only where the rule fixes it exactly: a yearly cycle on a fixed day, or a cycle
    # counted from the issue date the learner gave.
    renewal_date: date | None
    from_issue_date: bool = False

    @property
    def hours_required(self) -> Decimal | None:
        return self.rule.hours_required

    @property
    def checked_on(self) -> date:
        return self.rule.checked_on

    def as_json(self) -> dict:
        return {
            "found": True,
            "jurisdiction": self.rule.jurisdiction,
            "profession": self.rule.profession,
            "board": self.rule.board,
            "checked_on": self.rule.checked_on.isoformat(),
            "cycle_months": self.rule.cycle_months,
            "renewal_basis": self.rule.renewal_basis,
            "renewal": self.renewal,
            "renewal_date": self.renewal_date.isoformat() if self.renewal_date else None,
            "renewal_date_from_issue_date": self.from_issue_date and self.renewal_date is not None,
            "hours_required": (
                _hours(self.rule.hours_required) if self.rule.hours_required is not None else None
            ),
            "hours": self.hours,
            "final_word": str(FINAL_WORD),
        }


def next_renewal_date(rule: BoardRule, on: date, *, issued_on: date | None = None) -> date | None:
    """The next renewal date (on or after `on`) the rule fixes exactly: a yearly cycle on a fixed
    day, or a cycle counted from the licence's issue date where the learner gave it. None where
    the rule alone cannot say (a longer cycle on a fixed day falls in odd or even years by
    licence; a birth month is not asked for)."""
    if not rule.cycle_months:
        return None
    if rule.renewal_basis == RenewalBasis.ISSUE_DATE and issued_on is not None:
        # Every renewal is counted from the issue date itself, so 29 February and month ends
        # land on the same day of the month each cycle (clamped where the month is shorter).
        number = max(1, _cycle_number(issued_on, rule.cycle_months, on))
        return add_months(issued_on, number * rule.cycle_months)
    if (
        rule.renewal_basis == RenewalBasis.FIXED_DATE
        and rule.fixed_month
        and rule.fixed_day
        and rule.cycle_months == 12
    ):
        for year in (on.year, on.year + 1):
            last = calendar.monthrange(year, rule.fixed_month)[1]
            candidate = date(year, rule.fixed_month, min(rule.fixed_day, last))
            if candidate >= on:
                return candidate
    return None


def renewal_suggestion(
    jurisdiction: str,
    profession: str,
    *,
    on: date | None = None,
    issued_on: date | None = None,
) -> RenewalSuggestion | None:
    """How the renewal date is set and the hours, in words, with the date the rule was checked;
    None where the site has no rule for this board."""
    if jurisdiction not in Jurisdiction.values or profession not in Profession.values:
        return None
    rule = _rules(accepted=False).filter(jurisdiction=jurisdiction, profession=profession).first()
    if rule is None:
        return None
    return suggestion_from(rule, on=on, issued_on=issued_on)


def suggestion_from(
    rule: BoardRule, *, on: date | None = None, issued_on: date | None = None
) -> RenewalSuggestion:
    """The suggestion from a rule already fetched with its subject requirements."""
    return RenewalSuggestion(
        rule=rule,
        renewal=renewal_in_words(rule),
        hours=hours_in_words(rule),
        renewal_date=next_renewal_date(rule, on or timezone.localdate(), issued_on=issued_on),
        from_issue_date=issued_on is not None and rule.renewal_basis == RenewalBasis.ISSUE_DATE,
    )


def no_rule_in_words(jurisdiction: str, profession: str) -> str:
    """What the licence form says where the site has no rule for the board."""
    if jurisdiction == Jurisdiction.OTHER:
        return _(
            "This site keeps rules only for the boards it names. Enter the renewal date and the "
            "hours your board gives you."
        )
    return _(
        "This site has no rule yet for %(profession)s licences in %(jurisdiction)s. Enter the "
        "renewal date and the hours your board gives you."
    ) % {
        "profession": Profession(profession).label.lower(),
        "jurisdiction": Jurisdiction(jurisdiction).label,
    }
