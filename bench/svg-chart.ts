export interface Series {
  name: string
  color: string
  /** [x, y] points; y ≤ 0 is left out on a log axis. */
  points: [number, number][]
}

export interface Panel {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  logY?: boolean
}

const WIDTH = 960
const PANEL_HEIGHT = 280
const MARGIN = { left: 80, right: 200, top: 36, bottom: 44 }

/** A stack of line charts as one SVG document: no native dependency, readable in any browser. */
export function renderChart(title: string, subtitles: string[], panels: Panel[]): string {
  const header = 30 + 18 * subtitles.length
  const height = header + panels.length * PANEL_HEIGHT
  const body = panels.map((panel, index) => renderPanel(panel, header + index * PANEL_HEIGHT)).join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${MARGIN.left}" y="24" font-size="18" font-weight="bold">${escapeXml(title)}</text>
${subtitles.map((line, index) => `<text x="${MARGIN.left}" y="${44 + 18 * index}" fill="#555">${escapeXml(line)}</text>`).join('\n')}
${body}
</svg>
`
}

function renderPanel(panel: Panel, top: number): string {
  const plot = { x: MARGIN.left, y: top + MARGIN.top, width: WIDTH - MARGIN.left - MARGIN.right, height: PANEL_HEIGHT - MARGIN.top - MARGIN.bottom }
  const points = panel.series.flatMap((series) => series.points).filter(([, y]) => !panel.logY || y > 0)
  const xTicks = niceTicks(Math.max(1, ...points.map(([x]) => x)))
  const xMax = xTicks[xTicks.length - 1]!
  const yValues = points.map(([, y]) => y)
  const y = panel.logY ? logScale(yValues, plot) : linearScale(yValues, plot)
  const x = (value: number) => plot.x + (value / xMax) * plot.width
  const parts = [
    `<text x="${plot.x}" y="${top + 22}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<rect x="${plot.x}" y="${plot.y}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#999"/>`,
    ...y.ticks.map(
      (tick) =>
        `<line x1="${plot.x}" x2="${plot.x + plot.width}" y1="${y.at(tick)}" y2="${y.at(tick)}" stroke="#eee"/><text x="${plot.x - 6}" y="${y.at(tick) + 4}" text-anchor="end">${formatTick(tick)}</text>`,
    ),
    ...xTicks.map((tick) => `<text x="${x(tick)}" y="${plot.y + plot.height + 16}" text-anchor="middle">${formatTick(tick)}</text>`),
    `<text x="${plot.x + plot.width / 2}" y="${plot.y + plot.height + 34}" text-anchor="middle" fill="#555">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(${plot.x - 62} ${plot.y + plot.height / 2}) rotate(-90)" text-anchor="middle" fill="#555">${escapeXml(panel.yLabel)}</text>`,
  ]
  panel.series.forEach((series, index) => {
    const path = series.points
      .filter(([, value]) => !panel.logY || value > 0)
      .map(([px, py]) => `${x(px).toFixed(1)},${y.at(py).toFixed(1)}`)
      .join(' ')
    parts.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`)
    const legendY = plot.y + 10 + index * 18
    parts.push(
      `<line x1="${plot.x + plot.width + 12}" x2="${plot.x + plot.width + 32}" y1="${legendY}" y2="${legendY}" stroke="${series.color}" stroke-width="3"/>`,
      `<text x="${plot.x + plot.width + 38}" y="${legendY + 4}">${escapeXml(series.name)}</text>`,
    )
  })
  return parts.join('\n')
}

interface Scale {
  at: (value: number) => number
  ticks: number[]
}

function linearScale(values: number[], plot: { y: number; height: number }): Scale {
  const ticks = niceTicks(Math.max(1, ...values))
  const max = ticks[ticks.length - 1]!
  return { at: (value) => plot.y + plot.height - (value / max) * plot.height, ticks }
}

function logScale(values: number[], plot: { y: number; height: number }): Scale {
  const low = Math.floor(Math.log10(Math.max(0.1, Math.min(...values, 1))))
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values, 10))))
  const ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i))
  return { at: (value) => plot.y + plot.height - ((Math.log10(value) - low) / (high - low)) * plot.height, ticks }
}

/** 0 and about five round steps up to at least `max`. */
function niceTicks(max: number): number[] {
  const rough = max / 5
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough)!
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => i * step)
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000}k`
  return String(Number(value.toPrecision(3)))
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
