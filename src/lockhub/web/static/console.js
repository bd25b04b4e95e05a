// The console's progressive enhancement: every page works without it; with it, running action
// attempts and moving access codes update in place, new events appear without reload, PIN rules
// are checked as you type, and destructive forms ask first.
"use strict";

const POLL_MS = 1000;
const POLL_MAX_MS = 15000;
const LIVE_MS = 2000;

async function fetchHtml(url) {
  const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
}

// A pending attempt or a code being set: ask again until it settles, then reload the page so
// everything that depends on it (lock state, timeline) shows the outcome.
function pollUntilDone(element) {
  const url = element.dataset.poll;
  let wait = POLL_MS;
  const tick = async () => {
    try {
      const html = await fetchHtml(url);
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.firstElementChild;
      if (fresh && fresh.hasAttribute("data-done")) { window.location.reload(); return; }
      if (fresh) { element.innerHTML = fresh.innerHTML; }
    } catch (error) { /* a lost poll is retried */ }
    // Slower while it takes long (a code waiting for an offline lock may wait for hours).
    wait = Math.min(wait * 1.25, POLL_MAX_MS);
    setTimeout(tick, wait);
  };
  setTimeout(tick, wait);
}

// The events table: rows created since the newest shown (the API's `since` is on created_at)
// are added at the top, each once.
function followEvents(tbody) {
  const tick = async () => {
    const newest = tbody.querySelector("tr[data-created-at]");
    const since = newest ? newest.dataset.createdAt : "";
    try {
      const html = await fetchHtml(`${tbody.dataset.live}&since=${encodeURIComponent(since)}`);
      const holder = document.createElement("tbody");
      holder.innerHTML = html;
      const fresh = [...holder.querySelectorAll("tr[data-event-id]")].filter(
        (row) => !tbody.querySelector(`tr[data-event-id="${CSS.escape(row.dataset.eventId)}"]`));
      fresh.reverse().forEach((row) => tbody.prepend(row));
      if (fresh.length) {
        document.getElementById("no-events")?.remove();
        document.getElementById("live-state").textContent =
          `${fresh.length} new event${fresh.length === 1 ? "" : "s"}.`;
      }
    } catch (error) { /* retried */ }
    setTimeout(tick, LIVE_MS);
  };
  setTimeout(tick, LIVE_MS);
}

// The device's PIN rules (its supported lengths and code constraints), as lockhub checks them.
const CONSTRAINTS = {
  no_zeros: [(c) => c.includes("0"), "The code may not contain the digit 0."],
  cannot_start_with_12: [(c) => c.startsWith("12"), "The code may not start with 12."],
  no_triple_consecutive_ints: [(c) => runs(c, 1, 3) || runs(c, -1, 3),
    "The code may not contain three consecutive digits such as 345 or 543."],
  no_ascending_or_descending_sequence: [(c) => c.length > 1 && (runs(c, 1, c.length) || runs(c, -1, c.length)),
    "The code may not be an ascending or descending sequence such as 1234."],
  at_least_three_unique_digits: [(c) => new Set(c).size < 3, "The code needs at least three different digits."],
  cannot_contain_089: [(c) => /[089]/.test(c), "This keypad has no 0, 8 or 9 keys."],
  cannot_contain_0789: [(c) => /[0789]/.test(c), "This keypad has no 0, 7, 8 or 9 keys."],
  no_all_same_digits: [(c) => new Set(c).size === 1, "The code may not repeat one digit only."],
};

function runs(code, step, length) {
  for (let i = 0; i + length <= code.length; i++) {
    let ok = true;
    for (let j = 1; j < length; j++) {
      if (Number(code[i + j]) - Number(code[i + j - 1]) !== step) { ok = false; break; }
    }
    if (ok) return true;
  }
  return false;
}

function pinProblems(code, option, existing) {
  if (!code) return [];
  if (!/^[0-9]+$/.test(code)) return ["The code may contain digits only."];
  const problems = [];
  const lengths = (option.dataset.lengths || "").split(",").filter(Boolean).map(Number);
  if (lengths.length && !lengths.includes(code.length)) {
    problems.push(`The code must be ${lengths.join(", ")} digits long on this device; got ${code.length}.`);
  }
  const kinds = (option.dataset.constraints || "").split(",");
  for (const kind of kinds) {
    const check = CONSTRAINTS[kind];
    if (check && check[0](code)) problems.push(check[1]);
  }
  if (kinds.includes("cannot_specify_pin_code")) problems.push("This device chooses its own PINs: leave the PIN empty.");
  if (existing.includes(code)) problems.push("Another code on this device already uses this PIN.");
  return problems;
}

function checkPinsAsTyped(form) {
  const input = form.querySelector("#code");
  const select = form.querySelector("#device_id");
  const hint = form.querySelector("#code-rules");
  const firstDevice = select.value;
  const existing = (input.dataset.existing || "").split(",").filter(Boolean);
  const check = () => {
    const option = select.selectedOptions[0];
    if (!option || !option.value) { hint.textContent = ""; return []; }
    const problems = pinProblems(input.value, option, select.value === firstDevice ? existing : []);
    const lengths = option.dataset.lengths ? option.dataset.lengths.split(",").join(" or ") : "";
    hint.textContent = problems.length ? problems.join(" ") :
      (input.value ? "This PIN fits the device's rules." : lengths ? `${lengths} digits.` : "");
    hint.classList.toggle("bad", problems.length > 0);
    input.setAttribute("aria-invalid", problems.length ? "true" : "false");
    return problems;
  };
  input.addEventListener("input", check);
  select.addEventListener("change", check);
  form.addEventListener("submit", (event) => {
    if (check().length) { event.preventDefault(); input.focus(); }
  });
  check();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(pollUntilDone);
  document.querySelectorAll("tbody[data-live]").forEach(followEvents);
  document.querySelectorAll("form.code-form").forEach(checkPinsAsTyped);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
