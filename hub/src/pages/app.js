// Kadian tablet pages: the two things plain HTML cannot do. Served by the hub; no
// framework, no CDN. Every page works without it.
"use strict";

// 1. The live queue: rows arrive from the server already rendered in the person's
//    language; a new incident goes on top, a changed one is replaced where it is.
function liveQueue(list) {
  const filter = list.dataset.status || "";
  const badge = document.getElementById("live");
  const es = new EventSource(list.dataset.live);
  es.onopen = () => { if (badge) badge.hidden = false; };
  es.onerror = () => { if (badge) badge.hidden = true; };
  es.addEventListener("incident", (ev) => {
    const msg = JSON.parse(ev.data);
    const id = "incident-" + msg.incident.id;
    const tpl = document.createElement("template");
    tpl.innerHTML = msg.html.trim();
    const row = tpl.content.firstElementChild;
    const old = document.getElementById(id);
    const fits = filter === "" || filter === msg.incident.status;
    if (old) {
      if (fits) old.replaceWith(row); else old.remove();
    } else if (fits) {
      list.prepend(row);
      const empty = document.getElementById("empty");
      if (empty) empty.remove();
    }
  });
  // Fell behind the server: the store is the truth, read it again.
  es.addEventListener("resync", () => location.reload());
}

// 2. The outcome form shows only the fields of the chosen outcome.
function outcomeFields(form) {
  const select = form.querySelector("select[name=outcome]");
  const show = () => {
    for (const f of form.querySelectorAll("label.field")) {
      const on = f.dataset.for.split(" ").includes(select.value);
      f.hidden = !on;
      for (const input of f.querySelectorAll("input, select")) {
        input.disabled = !on;
      }
    }
  };
  select.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  const list = document.querySelector("ul.queue[data-live]");
  if (list && window.EventSource) liveQueue(list);
  const form = document.getElementById("outcome");
  if (form) outcomeFields(form);
});
