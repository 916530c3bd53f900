// JSON API calls; every error response carries {error, message}.
export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${url}: HTTP ${response.status}`);
  return body;
}

export async function postJSON(url, document) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(document),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${url}: HTTP ${response.status}`);
  return body;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
