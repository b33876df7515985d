// The prize wheel: an SVG drawn from the store's segments, and an animation that lands
// on the segment the server drew (the tablet never chooses the outcome).

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#ffc20e", "#e4007c", "#00a3e0", "#7ac143", "#f47b20", "#6d3a96"];
const TURNS = 5;

let rotation = 0;

function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function point(angleDeg, radius) {
  const rad = ((angleDeg - 90) * Math.PI) / 180;
  return [Math.cos(rad) * radius, Math.sin(rad) * radius];
}

/** Draw ``segments`` ({id, label}) clockwise from the top. */
export function drawWheel(svg, segments) {
  svg.replaceChildren();
  const group = el("g", { class: "wheel-rotor" });
  const step = 360 / Math.max(segments.length, 1);
  segments.forEach((segment, index) => {
    const start = index * step;
    const [x1, y1] = point(start, 100);
    const [x2, y2] = point(start + step, 100);
    const large = step > 180 ? 1 : 0;
    group.append(
      el("path", {
        d: `M0 0 L${x1} ${y1} A100 100 0 ${large} 1 ${x2} ${y2} Z`,
        fill: COLOURS[index % COLOURS.length],
        stroke: "#fff",
        "stroke-width": 1.5,
      }),
    );
    const middle = start + step / 2;
    const [tx, ty] = point(middle, 62);
    const text = el("text", {
      x: tx,
      y: ty,
      "text-anchor": "middle",
      "dominant-baseline": "middle",
      transform: `rotate(${middle} ${tx} ${ty})`,
      class: "wheel-label",
    });
    text.textContent = segment.label;
    group.append(text);
  });
  group.append(el("circle", { r: 14, fill: "#fff", stroke: "#222", "stroke-width": 2 }));
  svg.append(group);
  rotation = 0;
  return group;
}

/** Turn the wheel so that segment ``index`` of ``count`` stops under the pointer. */
export function spinTo(svg, index, count) {
  const rotor = svg.querySelector(".wheel-rotor");
  const step = 360 / count;
  const target = 360 - (index + 0.5) * step;
  const base = Math.ceil(rotation / 360) * 360;
  rotation = base + TURNS * 360 + target;
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const seconds = reduced ? 0.3 : 4;
  // CSSOM changes from a script are allowed by the page's CSP (no inline style attribute).
  rotor.style.transition = `transform ${seconds}s cubic-bezier(0.17, 0.67, 0.12, 0.99)`;
  rotor.style.transform = `rotate(${rotation}deg)`;
  return new Promise((resolve) => {
    const done = () => resolve();
    rotor.addEventListener("transitionend", done, { once: true });
    setTimeout(done, seconds * 1000 + 200);
  });
}
