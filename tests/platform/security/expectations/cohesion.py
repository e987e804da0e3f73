"""Who may call the cohesion routes (see tests/platform/security/matrix.py for the shorthands)."""

from tests.platform.security.matrix import CITY_EDITOR, PUBLIC, REVIEWER, SIGNED_IN, Rule

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/entries"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/entries/{entry_id:uuid}/vote"): CITY_EDITOR(
        "cohesion"
    ),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/summary"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/initiatives"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/initiatives"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}/boards"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}/rubric"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/lessons"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/measures"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/measures"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation"): CITY_EDITOR("cohesion"),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/plan"): CITY_EDITOR(
        "cohesion"
    ),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/verdict"): CITY_EDITOR(
        "cohesion"
    ),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/waves"): CITY_EDITOR(
        "cohesion"
    ),
    ("POST", "/api/v1/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/select"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/cities/{city_id:uuid}/pyramid"): CITY_EDITOR("cohesion"),
    ("GET", "/api/v1/cohesion/glossary"): PUBLIC,
    ("GET", "/m/cohesion"): PUBLIC,
    ("GET", "/m/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/entries"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/entries/{entry_id:uuid}/vote"): CITY_EDITOR(
        "cohesion"
    ),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/boards/{board_id:uuid}/summary.md"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/initiatives"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/initiatives"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}/boards"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/initiatives/{initiative_id:uuid}/rubric"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/lessons"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/measures"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/measures/new"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/delete"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/edit"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/plan"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/upload"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/verdict"): CITY_EDITOR(
        "cohesion"
    ),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/evaluation/waves"): CITY_EDITOR("cohesion"),
    ("POST", "/m/cohesion/cities/{city_id:uuid}/measures/{measure_id:uuid}/select"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/cities/{city_id:uuid}/pyramid"): CITY_EDITOR("cohesion"),
    ("GET", "/m/cohesion/compare"): SIGNED_IN,
    ("GET", "/m/cohesion/glossary"): PUBLIC,
    ("POST", "/m/cohesion/glossary/{key:str}"): REVIEWER("cohesion"),
    ("GET", "/m/cohesion/glossary/{key:str}/edit"): REVIEWER("cohesion"),
}
