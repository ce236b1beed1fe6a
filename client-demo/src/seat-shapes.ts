/**
 * How one seat is drawn. Status is carried by the SHAPE as well as the colour, so the map reads without
 * colour vision: available = filled circle, held by someone = ring, yours = diamond, booked = square,
 * blocked = bar, selected (box office) = a square frame around the seat's own shape.
 */
export type Shape = 'circle' | 'ring' | 'diamond' | 'square' | 'bar';
export interface Look {
  shape: Shape;
  fill: string;
  /** Box office: a frame marks seats picked for an action. */
  framed?: boolean;
}

/** Draws a status shape centred on (cx, cy) with radius r; also used for the legend swatches. */
export function drawShape(ctx: CanvasRenderingContext2D, look: Look, cx: number, cy: number, r: number): void {
  ctx.fillStyle = look.fill;
  ctx.strokeStyle = look.fill;
  switch (look.shape) {
    case 'circle':
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, Math.PI * 2);
      ctx.fill();
      break;
    case 'ring':
      ctx.lineWidth = Math.max(1, r * 0.45);
      ctx.beginPath();
      ctx.arc(cx, cy, r - ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.stroke();
      break;
    case 'diamond':
      ctx.beginPath();
      ctx.moveTo(cx, cy - r * 1.15);
      ctx.lineTo(cx + r * 1.15, cy);
      ctx.lineTo(cx, cy + r * 1.15);
      ctx.lineTo(cx - r * 1.15, cy);
      ctx.closePath();
      ctx.fill();
      break;
    case 'square':
      ctx.fillRect(cx - r * 0.85, cy - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 'bar':
      ctx.fillRect(cx - r, cy - r * 0.35, r * 2, r * 0.7);
      break;
  }
  if (look.framed) {
    ctx.strokeStyle = '#d6336c';
    // The frame stays inside the seat's own cell, so redrawing that cell alone erases it.
    ctx.lineWidth = 1.5;
    const e = r * 1.12 - 0.75;
    ctx.strokeRect(cx - e, cy - e, e * 2, e * 2);
  }
}

