// The pictures: the clue map (points by category, placed by longitude and latitude
// over the grids' boundaries, each shaded by its open clues with its name inside —
// no map tiles, nothing from outside; a grid without a boundary has its name at the
// middle of its clues), clues per day by category, and subsidy per day against the budget.
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

  // The ring of a GeoJSON Polygon ([lon, lat] pairs), its box and the middle of its box.
  const ringOf = feature => feature.geometry ? feature.geometry.coordinates[0] : null;
  function boxOf(ring) {
    const lons = ring.map(p => p[0]), lats = ring.map(p => p[1]);
    return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  }

  // Pale to deep red by a grid's share of the busiest grid's open clues.
  function shade(open, most) {
    const k = most ? open / most : 0;
    const mix = (a, b) => Math.round(a + (b - a) * k);
    return `rgba(${mix(232, 179)}, ${mix(240, 38)}, ${mix(254, 30)}, ${0.25 + 0.45 * k})`;
  }

  // The district's outline and its grids' boundaries, as one custom series of polygons (drawn under the clues).
  function boundaries(places) {
    const drawn = places.features.filter(ringOf);
    const most = Math.max(0, ...drawn.map(f => f.properties.open_clues || 0));
    return {
      type: "custom", z: 1, name: GG.t("map.grids"),
      encode: { x: [0, 2], y: [1, 3] },
      data: drawn.map(f => ({ value: [...boxOf(ringOf(f)), f.properties.kind], feature: f })),
      renderItem: (params, api) => {
        const f = drawn[params.dataIndex], grid = f.properties.kind === "grid";
        return { type: "polygon", shape: { points: ringOf(f).map(p => api.coord(p)) },
                 style: grid ? { fill: shade(f.properties.open_clues || 0, most), stroke: "#0b57d0", lineWidth: 1 }
                             : { fill: "none", stroke: "#1f2328", lineWidth: 2, lineDash: [6, 4] } };
      },
      tooltip: { formatter: d => placeWords(d.data.feature) },
    };
  }

  function placeWords(f) {
    const p = f.properties;
    if (p.kind === "grid") return `${p.name}<br>${GG.t("map.open")} ${p.open_clues}`;
    return p.queued == null ? p.district : `${p.district}<br>${GG.t("map.queued")} ${p.queued}`;
  }

  function clueMap(id, points, grids, places) {
    keep(id, () => {
      const names = Object.fromEntries(grids.map(g => [g.grid_id, g.name]));
      const drawn = places ? places.features.filter(f => f.properties.kind === "grid" && ringOf(f)) : [];
      const middles = {};
      for (const f of drawn) {  // a drawn grid's name sits in the middle of its boundary's box
        const [w, s, e, n] = boxOf(ringOf(f));
        names[f.id] = f.properties.name;
        middles[f.id] = { lon: (w + e) / 2, lat: (s + n) / 2, n: 1, fixed: true };
      }
      for (const p of points) {
        if (middles[p.grid_id] && middles[p.grid_id].fixed) continue;
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
      if (places) series.unshift(boundaries(places));
      on(id, {
        aria: { enabled: true },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 50, right: 20, top: 20, bottom: 50 },
        xAxis: { type: "value", scale: true, name: GG.t("r.lon"), axisLabel: { formatter: v => v.toFixed(4) } },
        yAxis: { type: "value", scale: true, name: GG.t("r.lat"), axisLabel: { formatter: v => v.toFixed(4) } },
        tooltip: { formatter: d => d.data.clue ? `${GG.t(`cat.${d.data.clue.category}`)} · ` +
                   `${GG.t(`st.${d.data.clue.status}`)}<br>${GG.time(d.data.clue.reported_at)}` : "" },
        series,
        graphic: points.length || drawn.length ? [] : [{ type: "text", left: "center", top: "middle",
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
