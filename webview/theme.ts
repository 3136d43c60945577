// Chart colours from the user's VS Code theme. VS Code sets --vscode-* variables on the
// webview's root and swaps them (and the body's class) when the theme changes.

export interface Palette {
  foreground: string;
  grid: string;
  /** The reward-version marker lines. */
  marker: string;
  series: string[];
}

/** Reads one CSS variable; '' when unset. */
export type ReadVariable = (name: string) => string;

const SERIES_VARIABLES = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
// Used only outside VS Code (the dev harness); inside it every variable is set.
const SERIES_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

export function themePalette(read: ReadVariable): Palette {
  const v = (name: string, fallback: string) => read(name).trim() || fallback;
  const foreground = v('--vscode-editor-foreground', '#cccccc');
  return {
    foreground,
    grid: withAlpha(v('--vscode-editorWidget-border', foreground), 0.25),
    marker: v('--vscode-charts-yellow', '#cca700'),
    series: SERIES_VARIABLES.map((name, i) => v(name, SERIES_FALLBACK[i])),
  };
}

/** The colour with the given opacity, for std bands; chart.js needs a colour it can parse. */
export function withAlpha(colour: string, alpha: number): string {
  const c = colour.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c)?.[1];
  if (hex && (hex.length === 3 || hex.length === 6 || hex.length === 8)) {
    const full = hex.length === 3 ? [...hex].map((d) => d + d).join('') : hex.slice(0, 6);
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  return c;
}
