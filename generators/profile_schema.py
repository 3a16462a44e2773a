"""The OSMI profile vocabulary: columns, the survey's answer choices and the age range. The one
source of truth for what a profile holds, light to import (the environment reads cohorts with
it; the loader in `generators.data.osmi` cleans the survey into it)."""

from __future__ import annotations

AGE_MIN, AGE_MAX = 18, 75
GENDERS: tuple[str, ...] = ("female", "male", "other")
OTHER_COUNTRY = "other"
NOT_APPLICABLE = "Not applicable"

_YES_NO = ("Yes", "No")
_YES_NO_DK = ("Yes", "No", "Don't know")
# Each answer column and the choices the survey offered, in the survey's order.
ANSWERS: dict[str, tuple[str, ...]] = {
    "self_employed": _YES_NO,
    "family_history": _YES_NO,
    "treatment": _YES_NO,
    "work_interfere": ("Never", "Rarely", "Sometimes", "Often", NOT_APPLICABLE),
    "no_employees": ("1-5", "6-25", "26-100", "100-500", "500-1000", "More than 1000"),
    "remote_work": _YES_NO,
    "tech_company": _YES_NO,
    "benefits": _YES_NO_DK,
    "care_options": ("Yes", "No", "Not sure"),
    "wellness_program": _YES_NO_DK,
    "seek_help": _YES_NO_DK,
    "anonymity": _YES_NO_DK,
    "leave": ("Very easy", "Somewhat easy", "Somewhat difficult", "Very difficult", "Don't know"),
    "mental_health_consequence": ("Yes", "No", "Maybe"),
    "phys_health_consequence": ("Yes", "No", "Maybe"),
    "coworkers": ("Yes", "No", "Some of them"),
    "supervisor": ("Yes", "No", "Some of them"),
    "mental_health_interview": ("Yes", "No", "Maybe"),
    "phys_health_interview": ("Yes", "No", "Maybe"),
    "mental_vs_physical": _YES_NO_DK,
    "obs_consequence": _YES_NO,
}
PROFILE_COLUMNS: tuple[str, ...] = ("age", "gender", "country", *ANSWERS)
