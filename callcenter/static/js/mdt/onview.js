// "Temuan di lapangan": the unit logs an incident it found on patrol (category, what is
// happening, units needed with itself included) at its own position; it is on the job at
// once, at the scene, and the job card shows it.

import { $ } from "../common/dom.js";
import { sendFreshPosition } from "./gps.js";
import { refresh } from "./job.js";
import { T, api, el, errorText, fmt, showMessage, state } from "./page.js";
import { render } from "./view.js";

let unitsTouched = false; // the officer chose the number: the category no longer sets it

export function setUpOnView() {
  const form = el.onviewForm;
  const open = $('[data-testid="onview-open"]');
  const category = $('[data-testid="onview-category"]', form);
  const units = $('[data-testid="onview-units"]', form);
  open.addEventListener("click", () => {
    form.reset();
    unitsTouched = false;
    form.hidden = false;
    open.hidden = true;
    sendFreshPosition(); // the server logs it where the unit is now
    category.focus();
  });
  $('[data-action="onview-back"]', form).addEventListener("click", () => {
    form.hidden = true;
    open.hidden = false;
  });
  category.addEventListener("change", () => {
    const chosen = category.selectedOptions[0];
    if (!unitsTouched && chosen && chosen.dataset.units) units.value = chosen.dataset.units;
    category.classList.remove("invalid");
  });
  units.addEventListener("input", () => {
    unitsTouched = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (state.busy) return;
    const body = {
      category: category.value,
      summary: $('[data-testid="onview-summary"]', form).value.trim(),
    };
    if (units.value) body.units_needed = Number(units.value);
    state.busy = true;
    render();
    let ticket = null;
    try {
      ticket = await api("POST", "/units/me/tickets", body);
    } catch (err) {
      showMessage(errorText(err));
      for (const name of Object.keys(err.fields || {})) {
        $(`[data-testid="onview-${name === "units_needed" ? "units" : name}"]`, form)?.classList.add("invalid");
      }
    }
    state.busy = false;
    if (ticket) {
      form.reset();
      form.hidden = true;
      open.hidden = false;
      for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
      showMessage(fmt(T.onview.logged, { number: ticket.number }), "ok");
    }
    await refresh(); // the job card shows the new ticket
  });
}
