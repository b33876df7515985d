// Receipts with line items (needs the receipts API: issue 3).

export function setupReceipts() {}
export async function loadReceipts() {}
export async function loadReceipt() {}
export function paintReceipts() {}
