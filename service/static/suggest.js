// Suggestions for the search box, from /api/suggest; the box works as a plain form without this script.
(() => {
  const input = document.getElementById("site-search");
  const list = document.getElementById("site-suggestions");
  if (!input || !list) return;
  let pending;
  input.addEventListener("input", () => {
    clearTimeout(pending);
    const text = input.value.trim();
    if (!text) return;
    pending = setTimeout(async () => {
      const url = new URL(input.dataset.suggest, location.href);
      url.searchParams.set("q", text);
      const lang = new URL(location.href).searchParams.get("lang");
      if (lang) url.searchParams.set("lang", lang);
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const { suggestions } = await response.json();
      list.replaceChildren(...suggestions.map((s) => Object.assign(document.createElement("option"), { value: s.label })));
    }, 150);
  });
})();
