// The alert list; messages and stacks come from user code, so they go in as text.
import type { Alert } from './alerts';
import { el, type DomDocument, type DomElement } from './dom';

export function renderAlerts<E extends DomElement>(doc: DomDocument<E>, alerts: readonly Alert[]): E {
  const list = el(doc, 'ul', 'alerts');
  for (const a of alerts) {
    const item = el(doc, 'li', `alert ${a.severity}`);
    item.setAttribute('data-kind', a.kind);
    item.append(el(doc, 'div', 'alert-title', a.title), el(doc, 'div', 'alert-detail', a.detail));
    if (a.stack) item.append(el(doc, 'pre', 'alert-stack', a.stack));
    list.append(item);
  }
  return list;
}
