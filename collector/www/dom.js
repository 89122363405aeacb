// dom.js - build elements without innerHTML: h("p", {class: "x"}, "text", child).
// Attributes: onX = event listener, true = present, false/null = absent.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v == null || v === false)
			continue;
		if (k.startsWith("on"))
			el.addEventListener(k.slice(2), v);
		else
			el.setAttribute(k, v === true ? "" : String(v));
	}
	add(el, children);
	return el;
}

function add(el, children) {
	for (const c of children) {
		if (c == null || c === false)
			continue;
		if (Array.isArray(c))
			add(el, c);
		else
			el.append(c instanceof Node ? c : String(c));
	}
}

// Replace what el holds.
export function fill(el, ...children) {
	el.replaceChildren();
	add(el, children);
	return el;
}
