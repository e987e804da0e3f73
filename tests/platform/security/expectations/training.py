"""Who may call the training routes (see tests/platform/security/matrix.py for the shorthands)."""

from tests.platform.security.matrix import ADMIN, CITY_EDITOR, ONLY, PUBLIC, REVIEWER, SIGNED_IN, Rule

OWNER = ONLY("contributor", cities=("A",))
"""A self-assessment taken while signed in is its owner's alone (city A's belongs to the contributor)."""

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/training/cities/{city_id:uuid}/gaps"): CITY_EDITOR("training"),
    ("GET", "/api/v1/training/cities/{city_id:uuid}/sessions"): CITY_EDITOR("training"),
    ("POST", "/api/v1/training/cities/{city_id:uuid}/sessions"): CITY_EDITOR("training"),
    ("GET", "/api/v1/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/report"): CITY_EDITOR("training"),
    ("GET", "/api/v1/training/matrix"): PUBLIC,
    ("GET", "/api/v1/training/me/learning-plan"): SIGNED_IN,
    ("POST", "/api/v1/training/questionnaires/{token:str}"): PUBLIC,
    ("GET", "/m/training"): PUBLIC,
    ("GET", "/m/training/cities/{city_id:uuid}"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/curricula"): CITY_EDITOR("training"),
    ("GET", "/m/training/cities/{city_id:uuid}/curricula/{curriculum_id:uuid}"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/curricula/{curriculum_id:uuid}/submit"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/curricula/{curriculum_id:uuid}/toolbox"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/curricula/{curriculum_id:uuid}/units"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/self-assessments"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/self-assessments/{assessment_id:uuid}/supervisor"): CITY_EDITOR(
        "training"
    ),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions"): CITY_EDITOR("training"),
    ("GET", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/attendance"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/close"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/feedback"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/participants"): CITY_EDITOR("training"),
    ("POST", "/m/training/cities/{city_id:uuid}/sessions/{session_id:uuid}/send"): CITY_EDITOR("training"),
    ("GET", "/m/training/matrix"): PUBLIC,
    ("POST", "/m/training/matrix/profiles"): ADMIN,
    ("GET", "/m/training/me"): SIGNED_IN,
    ("POST", "/m/training/me"): SIGNED_IN,
    ("GET", "/m/training/me/{assessment_id:uuid}"): OWNER,
    ("POST", "/m/training/me/{assessment_id:uuid}"): OWNER,
    ("GET", "/m/training/q/{token:str}"): PUBLIC,
    ("POST", "/m/training/q/{token:str}"): PUBLIC,
    ("GET", "/m/training/report"): REVIEWER("training"),
    ("GET", "/m/training/report.csv"): REVIEWER("training"),
    ("GET", "/m/training/review"): REVIEWER("training"),
    ("POST", "/m/training/review/{curriculum_id:uuid}"): REVIEWER("training"),
    ("GET", "/m/training/self/{token:str}"): PUBLIC,
    ("POST", "/m/training/self/{token:str}"): PUBLIC,
    ("GET", "/m/training/toolbox"): PUBLIC,
}
