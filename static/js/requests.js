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
