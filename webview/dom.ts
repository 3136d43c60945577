// The part of the DOM the render functions use. Rendering goes through this narrow interface
// so it runs in Node tests against a fake document, and so there is no innerHTML to reach
// for: every string a completion or a reward error contains lands in textContent or title.

export interface DomElement {
  textContent: string | null;
  title: string;
  className: string;
  hidden: boolean;
  setAttribute(name: string, value: string): void;
  append(...children: this[]): void; // children of the same kind, so HTMLElement fits
  readonly style: { setProperty(name: string, value: string): void };
}

/** Generic in its element type, so a render function given `document` returns HTMLElements. */
export interface DomDocument<E extends DomElement = DomElement> {
  createElement(tag: string): E;
}

/** An element with a class and, optionally, text (always as text, never parsed as HTML). */
export function el<E extends DomElement>(doc: DomDocument<E>, tag: string, className = '', text?: string): E {
  const e = doc.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
