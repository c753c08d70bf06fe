// Filing form: a customer is either picked or typed as new, never both — typing a new name clears
// the pick and picking clears the typed name (the server checks the same rule).
document.addEventListener("input", (event) => {
  if (event.target.id !== "id_new_customer") return;
  const pick = document.getElementById("id_customer");
  if (pick && event.target.value.trim()) pick.value = "";
});
document.addEventListener("change", (event) => {
  if (event.target.id !== "id_customer") return;
  const typed = document.getElementById("id_new_customer");
  if (typed && event.target.value) typed.value = "";
});

// Filing form: live aids from other apps (similar earlier requests…). As the rep types, the form's
// descriptive fields are sent to each aid's URL and the HTML it returns replaces the aid's content.
(() => {
  const aids = document.querySelectorAll(".filing-aid[data-aid-url]");
  if (!aids.length) return;
  const form = document.querySelector("form[method=post]");
  if (!form) return;
  const FIELDS = ["customer", "product", "part_description", "quantity", "title", "description", "priority"];
  let timer = null;
  let last = "";
  const refresh = () => {
    const params = new URLSearchParams();
    for (const name of FIELDS) {
      const field = form.elements.namedItem(name);
      if (field && field.value) params.set(name, field.value.slice(0, 2000));
    }
    params.set("format", "html");
    const query = params.toString();
    if (query === last) return;
    last = query;
    for (const aid of aids) {
      fetch(`${aid.dataset.aidUrl}?${query}`, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : ""))
        .then((html) => { if (html) aid.innerHTML = html; })
        .catch(() => {});
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 500); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
