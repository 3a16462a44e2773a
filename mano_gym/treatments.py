"""The treatments an agent can prescribe: the one source of truth for their names and the
intensity bounds.

| index | name           | what it stands for                                  |
|-------|----------------|-----------------------------------------------------|
| 0     | `control`      | no active treatment (watchful waiting)              |
| 1     | `wellness_app` | a self-guided smartphone mental-health app          |
| 2     | `cbt`          | cognitive behavioural therapy                       |
| 3     | `exercise`     | a structured exercise programme                     |
| 4     | `medication`   | antidepressant medication                           |

An action pairs a treatment index with an intensity in [`INTENSITY_LOW`, `INTENSITY_HIGH`]
(the fraction of a full-dose course given this week).
"""

from __future__ import annotations

TREATMENTS: tuple[str, ...] = ("control", "wellness_app", "cbt", "exercise", "medication")
N_TREATMENTS = len(TREATMENTS)
INTENSITY_LOW = 0.1
INTENSITY_HIGH = 1.0


def treatment_index(name: str) -> int:
    """The index of treatment `name`; a `ValueError` lists the known names otherwise."""
    try:
        return TREATMENTS.index(name)
    except ValueError:
        raise ValueError(
            f"unknown treatment {name!r}; known treatments: {', '.join(TREATMENTS)}"
        ) from None
