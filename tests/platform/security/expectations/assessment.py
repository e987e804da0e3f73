"""Who may call the self-assessment module's routes (see tests/platform/security/matrix.py for the shorthands).

A city's survey, scores and benchmark: the city's editors for the module (``module.edit`` on assessment), its
mayor's office and admins. Framework versions, responses and the pilot report: admins. The index, the published
frameworks and the index catalogue: everyone.
"""

from tests.platform.security.matrix import ADMIN, CITY_EDITOR, PUBLIC, Rule

_CITY_PAGES = [
    ("GET", ""),
    ("GET", "/benchmark"),
    ("GET", "/benchmark/monitor"),
    ("GET", "/benchmark/scenario"),
    ("POST", "/benchmark/scenario"),
    ("GET", "/benchmark/uncertainty"),
    ("POST", "/sharing"),
    ("GET", "/years/{year:int}"),
    ("POST", "/years/{year:int}/answers"),
    ("POST", "/years/{year:int}/answers/{code:str}"),
    ("GET", "/years/{year:int}/feedback"),
    ("POST", "/years/{year:int}/feedback"),
    ("POST", "/years/{year:int}/language"),
    ("POST", "/years/{year:int}/reopen"),
    ("POST", "/years/{year:int}/submit"),
    ("GET", "/years/{year:int}/template.csv"),
    ("GET", "/years/{year:int}/template.xlsx"),
    ("GET", "/years/{year:int}/upload"),
    ("POST", "/years/{year:int}/upload"),
]
_CITY_API = [
    ("GET", "/benchmark"),
    ("GET", "/peers"),
    ("GET", "/scores"),
    ("GET", "/years/{year:int}"),
    ("PUT", "/years/{year:int}/answers"),
    ("POST", "/years/{year:int}/submit"),
]

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    **{(m, f"/m/assessment/cities/{{city_id:uuid}}{p}"): CITY_EDITOR("assessment") for m, p in _CITY_PAGES},
    **{(m, f"/api/v1/assessment/cities/{{city_id:uuid}}{p}"): CITY_EDITOR("assessment") for m, p in _CITY_API},
    ("GET", "/m/assessment"): PUBLIC,
    ("GET", "/m/assessment/indices"): PUBLIC,
    ("GET", "/m/assessment/frameworks/{version_id:uuid}/yaml"): PUBLIC,
    ("GET", "/api/v1/assessment/frameworks"): PUBLIC,
    ("GET", "/api/v1/assessment/indices"): PUBLIC,
    ("GET", "/m/assessment/admin/frameworks"): ADMIN,
    ("POST", "/m/assessment/admin/frameworks"): ADMIN,
    ("POST", "/m/assessment/admin/frameworks/{version_id:uuid}/publish"): ADMIN,
    ("POST", "/m/assessment/admin/frameworks/{version_id:uuid}/delete"): ADMIN,
    ("GET", "/m/assessment/admin/pilot"): ADMIN,
    ("GET", "/m/assessment/admin/pilot.csv"): ADMIN,
    ("GET", "/m/assessment/admin/responses"): ADMIN,
    ("GET", "/static/m/assessment/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/m/assessment/{file_path:path}"): PUBLIC,
}
