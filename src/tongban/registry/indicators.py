"""The registry's figure for the cockpit (`core.indicators`): the population pyramid — residents
alive at the end of a day by sex and five-year age band, per community, in one grouped query (the
band is a CASE over birth dates the day fixes, so both databases count ages alike)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tongban.core.i18n import N_, gettext
from tongban.core.indicator_sql import cells
from tongban.core.indicators import Cell, Indicator
from tongban.registry.models import Person

BAND = 5
OLDEST = 100  # the last band: 100 and over


def band_label(age: int) -> str:
    """`"00-04"` … `"95-99"`, `"100+"`."""
    if age >= OLDEST:
        return f"{OLDEST}+"
    low = age // BAND * BAND
    return f"{low:02d}-{low + BAND - 1:02d}"


def born_by(day: dt.date, age: int) -> dt.date:
    """The latest birth date of someone `age` or older on `day` (a birthday on 29 February comes
    on 1 March in a common year)."""
    try:
        return day.replace(year=day.year - age)
    except ValueError:  # 29 February, `age` years back is a common year
        return dt.date(day.year - age, 2, 28)


def pyramid(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock at the end of `day_to`: residents born by then and not dead by then, by community,
    sex and age band."""
    band = case(*[(Person.birth_date <= born_by(day_to, age), band_label(age))
                  for age in range(OLDEST, 0, -BAND)], else_=band_label(0))
    rows = session.execute(
        select(Person.region_code, Person.sex, band, func.count())
        .where(Person.birth_date <= day_to,
               or_(Person.death_date > day_to, and_(Person.death_date.is_(None), Person.alive.is_(True))))
        .group_by(Person.region_code, Person.sex, band))
    return cells(((day_to, *r) for r in rows), dimensions=2, measures=("persons",))


SEX_LABELS = {"M": N_("Male"), "F": N_("Female")}


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """Sex in words (男, 女); an age band as a span of years (0–4岁 … 100岁及以上)."""
    if dimension == "sex":
        return {k: gettext(v) for k, v in SEX_LABELS.items()}
    if dimension == "age_band":
        out = {band_label(age): gettext(N_("%(low)d–%(high)d years")) % {"low": age, "high": age + BAND - 1}
               for age in range(0, OLDEST, BAND)}
        return out | {band_label(OLDEST): gettext(N_("%(low)d years and over")) % {"low": OLDEST}}
    return {}


INDICATORS = (
    Indicator(key="registry.pyramid", label=N_("Population pyramid"),
              definition=N_("Residents alive at the end of the day, by the community they live in, sex and "
                            "five-year age band."),
              measures=("persons",), show="count", of=("persons",), compute=pyramid, dimensions=("sex", "age_band"),
              kind="stock", subjects="persons", unit=N_("persons"), measure_labels={"persons": N_("Residents")},
              dimension_labels={"sex": N_("Sex"), "age_band": N_("Age band")}, value_labels=value_labels),
)
