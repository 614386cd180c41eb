"""The bank's business date, kept apart from the wall clock.

The stored business date is the last date whose night completed. The next
night runs the day after it; a missed stretch is caught up one date at a time,
in order (``--through``). Card processing runs every calendar day, weekends
and holidays included, so the next business date is always the next day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, insert, select, update

from cardbatch.engine.job import EngineError
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store.tables_engine import business_calendar

CALENDAR_ID = "bank"
CATCH_UP_DAYS_MAX = 366


class CalendarError(EngineError):
    """A business date that cannot be set or run."""


def current_business_date(conn: Connection) -> date | None:
    query = select(business_calendar.c.business_date).where(
        business_calendar.c.calendar_id == CALENDAR_ID
    )
    return conn.execute(query).scalar_one_or_none()


def require_business_date(conn: Connection) -> date:
    current = current_business_date(conn)
    if current is None:
        raise CalendarError("the business date is not set; run `cardbatch date set YYYY-MM-DD`")
    return current


def next_business_date(current: date) -> date:
    return current + timedelta(days=1)


def set_business_date(
    conn: Connection, new: date, actor: str, *, allow_backwards: bool = False
) -> date | None:
    """Set the business date (audited); moving it back needs ``allow_backwards``."""
    current = current_business_date(conn)
    if current is not None and new < current and not allow_backwards:
        raise CalendarError(
            f"business date {new} is before the current {current}; give --backwards to force"
        )
    values = {"business_date": new, "updated_at": utc_now(), "updated_by": actor}
    if current is None:
        conn.execute(insert(business_calendar).values(calendar_id=CALENDAR_ID, **values))
    else:
        conn.execute(
            update(business_calendar)
            .where(business_calendar.c.calendar_id == CALENDAR_ID)
            .values(**values)
        )
    audit.record(conn, actor, "date.set", "business_date", before=current, after=new)
    return current


def advance_to(conn: Connection, day: date, actor: str) -> None:
    """Close ``day``: it must be the next business date (or the first one ever)."""
    current = current_business_date(conn)
    if current is not None and day <= current:
        return  # a past date run again leaves the calendar where it is
    if current is not None and day != next_business_date(current):
        raise CalendarError(f"cannot close {day}: the next business date is "
                            f"{next_business_date(current)}")  # fmt: skip
    set_business_date(conn, day, actor)


def dates_to_run(current: date | None, day: date | None, through: date | None) -> list[date]:
    """The business dates a command runs, in order.

    ``day`` runs that date alone; ``through`` runs every date after the current
    one up to it; neither runs the next business date.
    """
    if day is not None and through is not None:
        raise CalendarError("give a date or --through, not both")
    if day is not None:
        if current is not None and day > next_business_date(current):
            raise CalendarError(
                f"{day} is past the next business date {next_business_date(current)}; "
                f"catch up with --through {day}"
            )
        return [day]
    if current is None:
        raise CalendarError("the business date is not set; give --date or run `cardbatch date set`")
    if through is None:
        return [next_business_date(current)]
    if through <= current:
        raise CalendarError(f"--through {through} is not after the business date {current}")
    days = (through - current).days
    if days > CATCH_UP_DAYS_MAX:
        raise CalendarError(f"catching up {days} days is more than {CATCH_UP_DAYS_MAX}")
    return [current + timedelta(days=i) for i in range(1, days + 1)]
