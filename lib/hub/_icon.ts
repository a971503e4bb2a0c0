// The hub client's icon (samp.icon.url), embedded so that a compiled
// samp_hub reads no file at run time.
export const HUB_ICON_SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
<circle cx="32" cy="32" r="30" fill="#1d3557"/>
<circle cx="32" cy="32" r="7" fill="#f1faee"/>
<g stroke="#a8dadc" stroke-width="3" fill="#e63946">
<line x1="32" y1="32" x2="14" y2="16"/><line x1="32" y1="32" x2="52" y2="20"/>
<line x1="32" y1="32" x2="20" y2="50"/><line x1="32" y1="32" x2="48" y2="48"/>
<circle cx="14" cy="16" r="5"/><circle cx="52" cy="20" r="5"/>
<circle cx="20" cy="50" r="5"/><circle cx="48" cy="48" r="5"/>
</g>
</svg>
`;
