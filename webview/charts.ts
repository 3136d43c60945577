// Draws the chart specs with chart.js: one card per spec, bands as filled pairs of
// datasets, reward-version markers as dashed vertical lines. Colours come from the
// palette; a theme change rebuilds every chart with the new one.
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset, type Plugin } from 'chart.js';
import type { ChartSpec, Point } from './metric-series';
import { withAlpha, type Palette } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip);

type XY = { x: number; y: number };
interface Card {
  box: HTMLElement; // title and canvas
  chart: Chart<'line', XY[]>;
  markers: { iterations: number[] };
  shape: string; // the dataset labels; a change rebuilds the chart
}

// chart.js leaves a gap at NaN, the same as our null.
const xy = (points: Point[]): XY[] => points.map((p) => ({ x: p.x, y: p.y ?? NaN }));

// Band edges: drawn, but neither in tooltips nor (the high edge) in legends.
const bandEdges = new WeakSet<object>();

function datasets(spec: ChartSpec, palette: Palette): ChartDataset<'line', XY[]>[] {
  return spec.series.flatMap((s, i) => {
    const colour = palette.series[i % palette.series.length];
    const line: ChartDataset<'line', XY[]> = { label: s.label, data: xy(s.points), borderColor: colour, backgroundColor: colour, borderWidth: 1.5, pointRadius: 2 };
    if (!s.band) return [line];
    const edge = { borderWidth: 0, pointRadius: 0, pointHitRadius: 0, backgroundColor: withAlpha(colour, 0.18) };
    // The low edge fills up to the dataset before it, the high edge: together a band.
    const high: ChartDataset<'line', XY[]> = { ...edge, label: '', data: xy(s.band.high) };
    const low: ChartDataset<'line', XY[]> = { ...edge, label: `${s.label} ${s.band.label}`, data: xy(s.band.low), fill: '-1' };
    bandEdges.add(high);
    bandEdges.add(low);
    return [line, high, low];
  });
}

/**
 * Tick labels short enough for a learning rate of 1e-5 as well as 3,000 tokens/s. `step` is the
 * distance between ticks: a tick within a millionth of it from 0 is 0, however chart.js's
 * floating-point steps spell it (1e-23 on a loss axis of 1e-8 steps).
 */
function tick(v: number, step: number): string {
  if (Math.abs(v) < Math.abs(step) * 1e-6) return '0';
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function markerPlugin(markers: { iterations: number[] }, colour: string): Plugin<'line'> {
  return {
    id: 'rewardVersionMarkers',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.setLineDash([4, 3]);
      for (const iteration of markers.iterations) {
        const x = scales.x.getPixelForValue(iteration);
        if (x < chartArea.left || x > chartArea.right) continue;
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

export class ChartBoard {
  private cards = new Map<string, Card>();
  private specs: ChartSpec[] = [];

  constructor(
    private readonly container: HTMLElement,
    private palette: Palette,
  ) {}

  /** Shows these charts: existing ones get new data, new ones are created, gone ones removed. */
  render(specs: ChartSpec[]): void {
    this.specs = specs;
    const wanted = new Set(specs.map((s) => s.id));
    for (const [id, card] of this.cards) {
      if (!wanted.has(id)) {
        card.box.remove();
        card.chart.destroy();
        this.cards.delete(id);
      }
    }
    for (const spec of specs) {
      const card = this.cards.get(spec.id);
      const data = datasets(spec, this.palette);
      const shape = data.map((d) => d.label).join('\n');
      if (card && card.shape === shape) {
        card.chart.data.datasets.forEach((d, i) => (d.data = data[i].data));
        card.markers.iterations = spec.markers;
        card.chart.update('none');
      } else {
        if (card) {
          card.box.remove();
          card.chart.destroy();
        }
        this.cards.set(spec.id, this.create(spec, data, shape));
      }
    }
    // Keep the cards in spec order.
    for (const spec of specs) {
      const box = this.cards.get(spec.id)?.box;
      if (box) this.container.append(box);
    }
  }

  /** The theme changed: rebuild every chart in the new colours. */
  setPalette(palette: Palette): void {
    this.palette = palette;
    for (const card of this.cards.values()) {
      card.box.remove();
      card.chart.destroy();
    }
    this.cards.clear();
    this.render(this.specs);
  }

  private create(spec: ChartSpec, data: ChartDataset<'line', XY[]>[], shape: string): Card {
    const box = document.createElement('div');
    box.className = 'chart-card';
    const title = document.createElement('h3');
    title.textContent = spec.title;
    const canvasBox = document.createElement('div');
    canvasBox.className = 'chart-canvas';
    const canvas = document.createElement('canvas');
    canvasBox.append(canvas);
    box.append(title, canvasBox);
    this.container.append(box);
    const p = this.palette;
    const markers = { iterations: spec.markers };
    const axis = { ticks: { color: p.foreground }, grid: { color: p.grid }, border: { color: p.grid } };
    const chart = new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets: data },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', ...axis, ticks: { ...axis.ticks, precision: 0 }, title: { display: true, text: 'iteration', color: p.foreground } },
          y: { type: 'linear', ...axis, ticks: { ...axis.ticks, callback: (v, _index, ticks) => tick(Number(v), ticks.length > 1 ? ticks[1].value - ticks[0].value : Number(v)) } },
        },
        plugins: {
          legend: { labels: { color: p.foreground, boxWidth: 12, filter: (item) => item.text !== '' } },
          tooltip: { filter: (item) => !bandEdges.has(item.dataset) },
        },
      },
      plugins: [markerPlugin(markers, p.marker)],
    });
    return { box, chart, markers, shape };
  }
}
