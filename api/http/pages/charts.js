// The pictures: the clue map (points by category, placed by longitude and latitude
// with each grid's name at the middle of its clues — no map tiles, nothing from
// outside), clues per day by category, and subsidy per day against the budget.
// Amounts stay integer fen; the axes and tooltips show them as ¥ through GG.money.
"use strict";

const Charts = (() => {
  const CATEGORIES = GG.CATEGORIES;
  const COLORS = ["#0b57d0", "#b3261e", "#e8710a", "#9334e6", "#137333", "#c5221f", "#5f6368", "#007b83"];
  const drawn = new Map();  // element id -> [chart, redraw]

  function on(id, option) {
    const node = document.getElementById(id);
    let chart = echarts.getInstanceByDom(node);
    if (!chart) {
      chart = echarts.init(node);
      window.addEventListener("resize", () => chart.resize());
    }
    chart.setOption(option, true);
    return chart;
  }

  // Draws now and again when the language changes.
  function keep(id, draw) {
    const first = !drawn.has(id);
    drawn.set(id, draw);
    if (first) GG.onLanguage(() => drawn.get(id)());
    draw();
  }

  function clueMap(id, points, grids) {
    keep(id, () => {
      const names = Object.fromEntries(grids.map(g => [g.grid_id, g.name]));
      const middles = {};
      for (const p of points) {
        const m = middles[p.grid_id] ||= { lon: 0, lat: 0, n: 0 };
        m.lon += p.lon; m.lat += p.lat; m.n += 1;
      }
      const series = CATEGORIES.map((category, i) => ({
        name: GG.t(`cat.${category}`), type: "scatter", symbolSize: 9, itemStyle: { color: COLORS[i] },
        data: points.filter(p => p.category === category).map(p => ({
          value: [p.lon, p.lat], clue: p })),
      }));
      series.push({
        type: "scatter", symbolSize: 0, silent: true, tooltip: { show: false },
        label: { show: true, formatter: d => d.data.name, color: "#1f2328", fontWeight: "bold" },
        data: Object.entries(middles).map(([grid, m]) => ({ name: names[grid] || "", value: [m.lon / m.n, m.lat / m.n] })),
      });
      on(id, {
        aria: { enabled: true },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 50, right: 20, top: 20, bottom: 50 },
        xAxis: { type: "value", scale: true, name: GG.t("r.lon"), axisLabel: { formatter: v => v.toFixed(4) } },
        yAxis: { type: "value", scale: true, name: GG.t("r.lat"), axisLabel: { formatter: v => v.toFixed(4) } },
        tooltip: { formatter: d => d.data.clue ? `${GG.t(`cat.${d.data.clue.category}`)} · ` +
                   `${GG.t(`st.${d.data.clue.status}`)}<br>${GG.time(d.data.clue.reported_at)}` : "" },
        series,
        graphic: points.length ? [] : [{ type: "text", left: "center", top: "middle",
                                         style: { text: GG.t("c.nodata"), fill: "#57606a" } }],
      });
    });
  }

  function cluesPerDay(id, rows) {
    keep(id, () => {
      const days = [...new Set(rows.map(r => r.day))].sort();
      on(id, {
        aria: { enabled: true },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 40, right: 20, top: 20, bottom: 50 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: days },
        yAxis: { type: "value", minInterval: 1 },
        series: CATEGORIES.map((category, i) => ({
          name: GG.t(`cat.${category}`), type: "bar", stack: "clues", itemStyle: { color: COLORS[i] },
          data: days.map(day => rows.filter(r => r.day === day && r.category === category)
                                    .reduce((sum, r) => sum + r.clues, 0)),
        })),
      });
    });
  }

  function subsidyPerDay(id, month) {
    keep(id, () => {
      const days = month.days.map(d => d.day);
      let running = 0;
      const cumulative = month.days.map(d => (running += d.awarded_fen - d.reversed_fen));
      on(id, {
        aria: { enabled: true },
        legend: { bottom: 0 },
        grid: { left: 90, right: 20, top: 20, bottom: 50 },
        tooltip: { trigger: "axis", valueFormatter: v => GG.money(v) },
        xAxis: { type: "category", data: days },
        // Tall enough for the budget's line: the point is the money against it.
        yAxis: { type: "value", max: v => Math.max(v.max, month.budget.allocated),
                 axisLabel: { formatter: v => GG.money(v) } },
        series: [
          { name: GG.t("col.awarded"), type: "bar", data: month.days.map(d => d.awarded_fen),
            itemStyle: { color: "#0b57d0" } },
          { name: GG.t("col.reversed"), type: "bar", data: month.days.map(d => d.reversed_fen),
            itemStyle: { color: "#b3261e" } },
          { name: GG.t("c.cumulative"), type: "line", data: cumulative, itemStyle: { color: "#137333" },
            markLine: { symbol: "none", label: { formatter: `${GG.t("wb.budget")} ${GG.money(month.budget.allocated)}` },
                        lineStyle: { color: "#e8710a", type: "dashed" },
                        data: [{ yAxis: month.budget.allocated }] } },
        ],
      });
    });
  }

  return { clueMap, cluesPerDay, subsidyPerDay };
})();
