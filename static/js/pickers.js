// Pickers that search (requests_app/pickers.py): each <input data-picker="URL"> becomes a Tom Select
// box that asks URL?q=… for at most 20 matches as the user types. Without this script the input
// stays a plain text field that takes a name, a code, a part number or a user name.
//
// For a keyboard user the highlighted suggestion is what Enter (or Tab) takes, so it must always be
// a match for what is typed now: suggestions answered for an earlier text (the list shown on focus,
// or a slower answer to a shorter text) are never shown for a new one; until the server answers the
// new text, the list says "Searching…" and Enter takes nothing.
(function () {
  "use strict";
  if (typeof TomSelect === "undefined") return;
  document.querySelectorAll("input[data-picker]").forEach(function (input) {
    const url = input.dataset.picker;
    const current = input.value.trim();
    const label = document.querySelector('label[for="' + input.id + '"]');
    let answered = null; // the text the suggestions in the list were found for
    // Tom Select hides this input and points the <label> at its own search box: the hidden input
    // keeps a name of its own, so no form field is left unlabelled.
    if (label) input.setAttribute("aria-label", label.textContent.trim());
    new TomSelect(input, {
      maxItems: 1,
      closeAfterSelect: true, // a picked row closes the list, which would hide the controls below it
      create: false,
      persist: false,
      valueField: "value",
      labelField: "text",
      searchField: [],
      options: current ? [{ value: current, text: current }] : [],
      items: current ? [current] : [],
      loadThrottle: 250,
      refreshThrottle: 0, // redraw at once on each key, so an earlier text's list never stays up
      preload: "focus",
      plugins: ["clear_button"],
      // The server already chose and ordered the matches: show them as they come, and only for
      // the text they were found for.
      score: function (query) {
        const current = answered === query;
        return function () { return current ? 1 : 0; };
      },
      load: function (query, callback) {
        // Ask again each time: the list holds one answer at a time, so none is cached.
        delete this.loadedSearches[query];
        fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { this.clearOptions(); answered = query; callback(data.results); }.bind(this))
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () { return '<div class="no-results">No match</div>'; },
        loading: function () { return '<div class="spinner-border spinner-border-sm m-2" role="status"><span class="visually-hidden">Searching…</span></div>'; },
      },
      onInitialize: function () {
        // The search box keeps the field's accessible name (its <label>).
        if (label) this.control_input.setAttribute("aria-label", label.textContent.trim());
        // Tab after typing takes the highlighted match and moves on, as Enter takes it and stays:
        // leaving with a typed text would otherwise drop it without a word.
        const picker = this;
        this.control_input.addEventListener("keydown", function (event) {
          if (event.key !== "Tab" || event.shiftKey || !picker.inputValue()) return;
          if (picker.isOpen && picker.activeOption && picker.dropdown_content.contains(picker.activeOption)) {
            picker.addItem(picker.activeOption.dataset.value);
          }
        });
      },
      onChange: function () {
        if (input.hasAttribute("data-autosubmit") && input.form) input.form.requestSubmit();
      },
    });
  });
})();
