// Pickers that search (requests_app/pickers.py): each <input data-picker="URL"> becomes a Tom Select
// box that asks URL?q=… for at most 20 matches as the user types. Without this script the input
// stays a plain text field that takes a name, a code, a part number or a user name.
(function () {
  "use strict";
  if (typeof TomSelect === "undefined") return;
  document.querySelectorAll("input[data-picker]").forEach(function (input) {
    const url = input.dataset.picker;
    const current = input.value.trim();
    const label = document.querySelector('label[for="' + input.id + '"]');
    // Tom Select hides this input and points the <label> at its own search box: the hidden input
    // keeps a name of its own, so no form field is left unlabelled.
    if (label) input.setAttribute("aria-label", label.textContent.trim());
    new TomSelect(input, {
      maxItems: 1,
      create: false,
      persist: false,
      valueField: "value",
      labelField: "text",
      searchField: [],
      options: current ? [{ value: current, text: current }] : [],
      items: current ? [current] : [],
      loadThrottle: 250,
      preload: "focus",
      plugins: ["clear_button"],
      // The server already chose and ordered the matches: show them as they come.
      score: function () { return function () { return 1; }; },
      load: function (query, callback) {
        fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { this.clearOptions(); callback(data.results); }.bind(this))
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () { return '<div class="no-results">No match</div>'; },
        loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"><span class="visually-hidden">Searching…</span></div>'; },
      },
      onInitialize: function () {
        // The search box keeps the field's accessible name (its <label>).
        if (label) this.control_input.setAttribute("aria-label", label.textContent.trim());
      },
      onChange: function () {
        if (input.hasAttribute("data-autosubmit") && input.form) input.form.requestSubmit();
      },
    });
  });
})();
