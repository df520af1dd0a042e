"""The targets report in a real browser: the charts are drawn from our own static files, the
figures are in tables beside them, the filters narrow them, the CSV of the tickets behind a
figure downloads, and the page prints on one page without its forms."""

import csv
import io
import re

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import PASSWORD
from tests.reports import dataset

CHARTS = ("chart-hour", "chart-day", "chart-targets", "chart-non-emergency")
INK = """(id) => {
  const c = document.getElementById(id);
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
  return inked;
}"""


def open_report(new_page, live_server, factory, query):
    factory.user("supervisor", username="kaspkt")
    page = new_page(accept_downloads=True)
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "kaspkt", PASSWORD)
    page.goto(f"{live_server}/reports/?{query}")
    return page, requests, errors


def test_the_report_draws_its_charts_filters_and_exports(new_page, live_server, factory, app):
    ids = dataset.build(app)
    page, requests, errors = open_report(
        new_page, live_server, factory, f"from={dataset.FROM}&to={dataset.TO}"
    )
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-drawn='1']")
        assert page.evaluate(INK, chart) > 500, chart  # something was drawn on it
    assert page.get_by_test_id("calls").inner_text() == "13"
    assert page.get_by_test_id("target-processing").inner_text() == "66.7 %"
    assert "Polsek Kepanjen" in page.get_by_test_id("table-sectors").inner_text()
    screenshot(page, "report")
    # Everything came from this server: the chart library too.
    assert requests and all(url.startswith(live_server) for url in requests), requests
    assert errors == []

    # The CSV of the calls that missed the answer target: B (11 s) and E (10.000001 s).
    with page.expect_download() as caught:
        page.get_by_test_id("csv-answer_missed").click()
    download = caught.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    wanted = {factory.ticket(ids["tickets"][k]).number for k in ("B", "E")}
    assert {r["number"] for r in rows} == wanted
    assert sorted(r["answer_s"] for r in rows) == ["10.000", "11.000"]

    # Filters: priority 2 and Polsek Kepanjen leave B alone.
    page.select_option("select[name=priority]", "2")
    page.select_option("select[name=sector]", str(ids["sectors"]["S1"]))
    page.get_by_test_id("report-show").click()
    page.wait_for_selector("#chart-hour[data-drawn='1']")
    assert "priority=2" in page.url
    assert page.get_by_test_id("calls").inner_text() == "1"
    assert page.get_by_test_id("target-processing").inner_text() == "0.0 %"
    assert "Polsek Kepanjen" in page.get_by_test_id("report-range").inner_text()
    assert page.locator("select[name=priority]").input_value() == "2"

    # A wrong range is named on the page, and nothing is drawn.
    page.fill("input[name=from]", "2026-03-20")
    page.get_by_test_id("report-show").click()
    assert "sebelum" in page.get_by_test_id("report-error").inner_text()

    # The month for the Kapolres: one printed page, without the forms and links.
    page.goto(f"{live_server}/reports/?from=2026-03-01&to=2026-03-31")
    page.wait_for_selector("#chart-day[data-drawn='1']")
    page.emulate_media(media="print")
    assert page.get_by_test_id("report-filters").is_hidden()
    assert page.get_by_test_id("csv-calls").first.is_hidden()
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one page
    screenshot(page, "report-print")
