// Parts of the member API that arrive with other issues: the card's QR and wallet links
// (issue 4), receipts and reward levels with vouchers (issue 3).
export const FEATURES = { wallet: true, rewards: true, receipts: true };
