"""Who may call the yearly monitoring cycle's routes (see tests/platform/security/matrix.py for the shorthands).

The secretariat's cycle pages and API: admins only (``cycle.manage``). A city's checklist, its workbook and its
cycles: any editor of the city (``module.edit``, whatever the module). Submitting and asking for a delay: the
mayor's office (``cycle.submit``). Published reports and the figures: everyone.
"""

from tests.platform.security.matrix import ADMIN, CITY_EDITOR, MAYOR, PUBLIC, Rule

_ADMIN_PAGES = [
    ("GET", ""),
    ("POST", ""),
    ("GET", "/{year:int}"),
    ("GET", "/{year:int}/cities/{city_id:uuid}"),
    ("POST", "/{year:int}/cities/{city_id:uuid}/check"),
    ("GET", "/{year:int}/close"),
    ("POST", "/{year:int}/close"),
    ("GET", "/{year:int}/delays"),
    ("POST", "/{year:int}/delays/{delay_id:uuid}"),
    ("GET", "/{year:int}/edit"),
    ("POST", "/{year:int}/edit"),
    ("GET", "/{year:int}/matrix"),
    ("GET", "/{year:int}/notices"),
    ("POST", "/{year:int}/notices"),
    ("POST", "/{year:int}/notices/{notice_id:uuid}/suspend"),
    ("POST", "/{year:int}/open"),
    ("GET", "/{year:int}/progress"),
    ("POST", "/{year:int}/remind"),
    ("POST", "/{year:int}/reopen"),
    ("GET", "/{year:int}/report"),
    ("POST", "/{year:int}/report"),
    ("GET", "/{year:int}/report.pdf"),
    ("GET", "/{year:int}/report.zip"),
    ("POST", "/{year:int}/report/publish"),
    ("POST", "/{year:int}/sections/{section_id:uuid}/{decision:str}"),
]
_ADMIN_API = [
    ("GET", "/cycles"),
    ("POST", "/cycles"),
    ("GET", "/cycles/{year:int}"),
    ("POST", "/cycles/{year:int}/close"),
    ("POST", "/cycles/{year:int}/delays/{delay_id:uuid}"),
    ("GET", "/cycles/{year:int}/matrix"),
    ("POST", "/cycles/{year:int}/notices"),
    ("POST", "/cycles/{year:int}/open"),
    ("POST", "/cycles/{year:int}/reminders"),
    ("POST", "/cycles/{year:int}/reopen"),
    ("POST", "/cycles/{year:int}/report"),
    ("POST", "/cycles/{year:int}/report/publish"),
    ("POST", "/cycles/{year:int}/sections/{section_id:uuid}/return"),
    ("POST", "/cycles/{year:int}/sections/{section_id:uuid}/validate"),
    ("GET", "/cycles/{year:int}/summary"),
]

EXPECTATIONS: dict[tuple[str, str], Rule] = {
    **{(method, f"/admin/monitoring{path}"): ADMIN for method, path in _ADMIN_PAGES},
    **{(method, f"/api/v1/monitoring{path}"): ADMIN for method, path in _ADMIN_API},
    # a city's checklist
    ("GET", "/cities/{city_id:uuid}/monitoring"): CITY_EDITOR(),
    ("GET", "/cities/{city_id:uuid}/monitoring/{year:int}"): CITY_EDITOR(),
    ("GET", "/cities/{city_id:uuid}/monitoring/{year:int}/workbook.xlsx"): CITY_EDITOR(),
    ("POST", "/cities/{city_id:uuid}/monitoring/{year:int}/delay"): MAYOR(),
    ("POST", "/cities/{city_id:uuid}/monitoring/{year:int}/submit"): MAYOR(),
    ("GET", "/api/v1/cities/{city_id:uuid}/monitoring/{year:int}"): CITY_EDITOR(),
    ("POST", "/api/v1/cities/{city_id:uuid}/monitoring/{year:int}/delay-requests"): MAYOR(),
    ("POST", "/api/v1/cities/{city_id:uuid}/monitoring/{year:int}/submit"): MAYOR(),
    # published reports
    ("GET", "/reports"): PUBLIC,
    ("GET", "/reports/{year:int}"): PUBLIC,
    ("GET", "/reports/{year:int}/report.pdf"): PUBLIC,
    ("GET", "/reports/{year:int}/report.zip"): PUBLIC,
}
