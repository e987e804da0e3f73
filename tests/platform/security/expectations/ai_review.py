"""Who may call the ai_review routes (see tests/platform/security/matrix.py for the shorthands)."""

from tests.platform.security.matrix import CITY_EDITOR, PUBLIC, REVIEWER, Rule

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    ("PUT", "/api/v1/ai_review/cities/{city_id:uuid}/survey"): CITY_EDITOR("ai_review"),
    ("GET", "/api/v1/ai_review/cities/{city_id:uuid}/technologies"): CITY_EDITOR("ai_review"),
    ("POST", "/api/v1/ai_review/cities/{city_id:uuid}/technologies"): CITY_EDITOR("ai_review"),
    ("POST", "/api/v1/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/publish"): CITY_EDITOR(
        "ai_review"
    ),
    ("PUT", "/api/v1/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/review"): CITY_EDITOR(
        "ai_review"
    ),
    ("POST", "/api/v1/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/submit"): CITY_EDITOR(
        "ai_review"
    ),
    ("GET", "/api/v1/ai_review/legal"): PUBLIC,
    ("POST", "/api/v1/ai_review/legal"): REVIEWER("ai_review"),
    ("DELETE", "/api/v1/ai_review/legal/{development_id:uuid}"): REVIEWER("ai_review"),
    ("GET", "/api/v1/ai_review/legal/{development_id:uuid}"): PUBLIC,
    ("PUT", "/api/v1/ai_review/legal/{development_id:uuid}"): REVIEWER("ai_review"),
    ("GET", "/api/v1/ai_review/survey/{year:int}"): PUBLIC,
    ("GET", "/api/v1/ai_review/technologies"): PUBLIC,
    ("GET", "/api/v1/ai_review/technologies/{technology_id:uuid}"): CITY_EDITOR("ai_review") | REVIEWER("ai_review"),
    ("POST", "/api/v1/ai_review/technologies/{technology_id:uuid}/public-override"): REVIEWER("ai_review"),
    ("POST", "/api/v1/ai_review/technologies/{technology_id:uuid}/sign-off"): REVIEWER("ai_review"),
    ("GET", "/m/ai_review"): PUBLIC,
    ("GET", "/m/ai_review/cities/{city_id:uuid}/survey"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/survey"): CITY_EDITOR("ai_review"),
    ("GET", "/m/ai_review/cities/{city_id:uuid}/technologies"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/technologies"): CITY_EDITOR("ai_review"),
    ("GET", "/m/ai_review/cities/{city_id:uuid}/technologies/new"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}"): CITY_EDITOR("ai_review"),
    ("GET", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/edit"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/publish"): CITY_EDITOR("ai_review"),
    ("GET", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/review"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/review"): CITY_EDITOR("ai_review"),
    ("POST", "/m/ai_review/cities/{city_id:uuid}/technologies/{technology_id:uuid}/unpublish"): CITY_EDITOR(
        "ai_review"
    ),
    ("GET", "/m/ai_review/compendium"): PUBLIC,
    ("GET", "/m/ai_review/compendium.csv"): PUBLIC,
    ("GET", "/m/ai_review/compendium.md"): PUBLIC,
    ("GET", "/m/ai_review/legal"): PUBLIC,
    ("POST", "/m/ai_review/legal"): REVIEWER("ai_review"),
    ("GET", "/m/ai_review/legal.csv"): PUBLIC,
    ("POST", "/m/ai_review/legal/{development_id:uuid}"): REVIEWER("ai_review"),
    ("POST", "/m/ai_review/legal/{development_id:uuid}/delete"): REVIEWER("ai_review"),
    ("GET", "/m/ai_review/legal/{development_id:uuid}/edit"): REVIEWER("ai_review"),
    ("GET", "/m/ai_review/register.csv"): PUBLIC,
    ("GET", "/m/ai_review/register.json"): PUBLIC,
    ("GET", "/m/ai_review/reviews"): REVIEWER("ai_review"),
    ("POST", "/m/ai_review/reviews/{technology_id:uuid}"): REVIEWER("ai_review"),
    ("POST", "/m/ai_review/reviews/{technology_id:uuid}/visibility"): REVIEWER("ai_review"),
    ("GET", "/m/ai_review/survey/participants.csv"): PUBLIC,
    ("GET", "/m/ai_review/survey/results"): PUBLIC,
    ("GET", "/m/ai_review/survey/results.csv"): PUBLIC,
    ("GET", "/m/ai_review/technologies/{technology_id:uuid}"): CITY_EDITOR("ai_review") | REVIEWER("ai_review"),
}
