// The targets report's charts: the same figures as the tables beside them, drawn with the
// Chart.js file served from our own static files (window.Chart). Each canvas says it is
// drawn (data-drawn) once its chart has rendered. Print redraws them at the paper's size.

const { figures, labels } = JSON.parse(document.getElementById("report-data").textContent);
const Chart = window.Chart;
const BLUE = "#1d4ed8";
const RED = "#b91c1c";
const GREEN = "#15803d";
const GREY = "#9ca3af";
const charts = [];

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas || !Chart) return;
  const chart = new Chart(canvas, {
    ...config,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      ...config.options,
      plugins: { legend: { position: "bottom" }, ...(config.options || {}).plugins },
    },
    plugins: [{ id: "drawn", afterRender: () => { canvas.dataset.drawn = "1"; } }],
  });
  charts.push(chart);
}

function callsAndIncidents(rows, label) {
  return {
    labels: rows.map(label),
    datasets: [
      { label: labels.calls, data: rows.map((r) => r.calls), backgroundColor: GREY },
      { label: labels.incidents, data: rows.map((r) => r.incidents), backgroundColor: BLUE },
    ],
  };
}

draw("chart-hour", {
  type: "bar",
  data: callsAndIncidents(figures.by_hour, (r) => String(r.key).padStart(2, "0")),
});
draw("chart-day", {
  type: "bar",
  data: callsAndIncidents(figures.by_day, (r) => r.key.slice(5)),
});

const targets = ["answer", "processing", "on_scene"];
const percent = (share) => (share === null ? 0 : Math.round(share * 1000) / 10);
draw("chart-targets", {
  type: "bar",
  data: {
    labels: targets.map((name) => labels[name]),
    datasets: [
      { label: labels.met + " %", data: targets.map((n) => percent(figures.targets[n].share)), backgroundColor: GREEN },
      {
        label: labels.missed + " %",
        data: targets.map((n) => (figures.targets[n].of ? 100 - percent(figures.targets[n].share) : 0)),
        backgroundColor: RED,
      },
    ],
  },
  options: { indexAxis: "y", scales: { x: { stacked: true, max: 100 }, y: { stacked: true } } },
});

draw("chart-non-emergency", {
  type: "doughnut",
  data: {
    labels: figures.non_emergency.map((r) => labels.categories[r.category] || r.category),
    datasets: [{
      data: figures.non_emergency.map((r) => r.calls),
      backgroundColor: ["#b45309", "#6b7280", "#0e7490", "#7c3aed", "#be123c"],
    }],
  },
});

// Printing: charts take the paper's width, then the page's again.
window.addEventListener("beforeprint", () => charts.forEach((c) => c.resize(320, 200)));
window.addEventListener("afterprint", () => charts.forEach((c) => c.resize()));
const printButton = document.getElementById("report-print");
if (printButton) printButton.addEventListener("click", () => window.print());
