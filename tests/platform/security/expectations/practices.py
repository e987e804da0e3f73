"""Who may call the practices routes (see tests/platform/security/matrix.py for the shorthands)."""

from tests.platform.security.matrix import ADMIN, CITY_EDITOR, PUBLIC, REVIEWER, Rule

DRAFT_FICHE = CITY_EDITOR("practices") | REVIEWER("practices")
"""The world's fiches (and their images and documents) are drafts: hidden from everyone else."""

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/practices/cities/{city_id:uuid}/fiches"): CITY_EDITOR("practices"),
    ("POST", "/api/v1/practices/cities/{city_id:uuid}/fiches"): CITY_EDITOR("practices"),
    ("GET", "/api/v1/practices/cities/{city_id:uuid}/fiches/recommendations"): CITY_EDITOR("practices"),
    ("PUT", "/api/v1/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}"): CITY_EDITOR("practices"),
    ("POST", "/api/v1/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/indicators"): CITY_EDITOR("practices"),
    ("POST", "/api/v1/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/submit"): CITY_EDITOR("practices"),
    ("GET", "/api/v1/practices/fiches"): PUBLIC,
    ("GET", "/api/v1/practices/fiches/{fiche_id:uuid}"): DRAFT_FICHE,
    ("GET", "/api/v1/practices/review"): REVIEWER("practices"),
    ("POST", "/api/v1/practices/review/{fiche_id:uuid}"): REVIEWER("practices"),
    ("GET", "/api/v1/practices/rules"): PUBLIC,
    ("GET", "/m/practices"): PUBLIC,
    ("GET", "/m/practices/campaigns"): ADMIN,
    ("POST", "/m/practices/campaigns"): ADMIN,
    ("GET", "/m/practices/campaigns/{campaign_id:uuid}"): ADMIN,
    ("GET", "/m/practices/cities/{city_id:uuid}/fiches"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches"): CITY_EDITOR("practices"),
    ("GET", "/m/practices/cities/{city_id:uuid}/fiches/new"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/documents"): CITY_EDITOR("practices"),
    (
        "POST",
        "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/documents/{document_id:uuid}/delete",
    ): CITY_EDITOR("practices"),
    ("GET", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/edit"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/images"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/images/{image_id:uuid}/delete"): CITY_EDITOR(
        "practices"
    ),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/indicators"): CITY_EDITOR("practices"),
    ("POST", "/m/practices/cities/{city_id:uuid}/fiches/{fiche_id:uuid}/submit"): CITY_EDITOR("practices"),
    ("GET", "/m/practices/documents/{document_id:uuid}"): CITY_EDITOR("practices")
    | REVIEWER("practices"),  # of a draft fiche
    ("GET", "/m/practices/fiches/{fiche_id:uuid}"): DRAFT_FICHE,
    ("GET", "/m/practices/images/{image_id:uuid}"): CITY_EDITOR("practices")
    | REVIEWER("practices"),  # of a draft fiche
    ("GET", "/m/practices/images/{image_id:uuid}/thumbnail"): CITY_EDITOR("practices")
    | REVIEWER("practices"),  # of a draft fiche
    ("GET", "/m/practices/inventory"): PUBLIC,
    ("GET", "/m/practices/map"): PUBLIC,
    ("GET", "/m/practices/monitoring"): REVIEWER("practices"),
    ("GET", "/m/practices/monitoring.csv"): REVIEWER("practices"),
    ("GET", "/m/practices/review"): REVIEWER("practices"),
    ("POST", "/m/practices/review/{fiche_id:uuid}"): REVIEWER("practices"),
    ("GET", "/m/practices/rules"): PUBLIC,
    ("GET", "/static/m/practices/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/m/practices/{file_path:path}"): PUBLIC,
}
