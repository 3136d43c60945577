import { randomBytes } from 'node:crypto';

/** What the page needs from the webview: its CSP source and the bundle's webview URIs. */
export interface DashboardPageSources {
  cspSource: string;
  scriptUri: string; // out/webview.js
  styleUri: string; // out/webview.css
}

/** A fresh nonce per page load, so an injected script cannot guess it. */
export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The dashboard's page (webview/README.md): nothing but the bundle, allowed by a CSP that
 * admits only the nonce'd script and the extension's own styles, images and fonts.
 */
export function dashboardHtml(sources: DashboardPageSources, nonce: string): string {
  const { cspSource, scriptUri, styleUri } = sources;
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>GRPO Dashboard</title>
<link rel="stylesheet" href="${attr(styleUri)}">
</head>
<body><script nonce="${nonce}" src="${attr(scriptUri)}"></script></body>
</html>
`;
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
