// Wallet connection: EIP-6963 discovery (a chooser when several wallets announce), window.ethereum
// as fallback, network check with a switch request, and wallet / contract errors in plain words.
import { BrowserProvider, Contract } from "/vendor/ethers.js";
import { getJSON, sleep } from "./api.js";
import { el, showMessage, short } from "./ui.js";

const announced = new Map();
window.addEventListener("eip6963:announceProvider", (event) => {
  announced.set(event.detail.info.uuid, event.detail);
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

let chosen = null;
let account = null;
let contractInfoCache = null;

export async function contractInfo() {
  contractInfoCache ??= await getJSON("/api/contract");
  return contractInfoCache;
}

// A message for every custom error of StyleMint, StyleRegistry, OracleQuorum and the minters, OpenZeppelin's included
// (tests/web/test_revert_messages.py fails on an error without one).
const REVERTS = {
  SoldOut: "Sold out: every edition of this project has been minted.",
  ProjectPaused: "Minting is paused for this project.",
  WrongPayment: "The payment does not match the price; reload the page to see the current price.",
  NotProjectMinter: "This project is sold by another minter; reload the page to buy from the right one.",
  MinterNotApproved: "The platform has not approved that minter for projects.",
  NoSuchProposal: "That is not the address the artist proposed.",
  NotAdmin: "Only the platform admin can do this.",
  PriceNotConfigured: "This project is not for sale yet: its artist has not set a price.",
  AllowlistOnly: "This sale is for the artist's allowlist only.",
  NoAllowlist: "This project has no allowlist: buy it with the ordinary Mint button.",
  NotOnAllowlist: "Your address is not on this project's allowlist.",
  MintLimitReached: "You have bought as many editions of this project as one address may.",
  NotAnOracle: "A signature is not from an active oracle key.",
  SignersNotAscending: "The oracle signatures must be ordered by signer address, each signer once.",
  TooFewSignatures: "Too few oracle signatures for the quorum.",
  InvalidThreshold: "The quorum must be at least 1 and at most the number of oracle keys.",
  BadSignature: "A signature is malformed.",
  AuctionNotConfigured: "This project has no auction set on this minter.",
  AuctionNotStarted: "The auction has not started yet; the page shows when it opens.",
  AuctionStarted: "An auction cannot change once it started, once the project is locked, or after a sale.",
  InvalidAuction: "Those auction settings are not allowed (start price at least the base price, base price above zero and at least the minimum, a start in the future, a half-life of 60 s to a day, at most 20 halvings).",
  InsufficientPayment: "The payment is below the auction's current price; reload the page to see it.",
  NotSettleable: "The auction can settle only once it sold out or reached its base price.",
  AlreadySettled: "The auction is already settled.",
  NotSettled: "The auction has not settled yet: nothing can be reclaimed before it does.",
  NothingToReclaim: "You paid nothing above the settled price, or you reclaimed it already.",
  ReclaimFailed: "The reclaimed amount could not be sent to that address; nothing changed.",
  PriceNotFinal: "The project's auction has not settled yet: its tokens are settled (or refunded) once its price is final.",
  PriceNotOpenable: "The project's price can open only before its first sale, and settle only once open.",
  WrongTopUp: "The settlement must top up every edition sold.",
  InvalidShortString: "A text is not a valid short string.",
  StringTooLong: "A text is too long for the contract.",
  NotProjectArtist: "Only the project's artist can do this.",
  ProjectIsLocked: "This project is locked: its style and edition cap can no longer change.",
  NothingToWithdraw: "Nothing to withdraw yet.",
  InvalidMaxEditions: "That edition cap is not allowed (only lower, never below the editions minted).",
  InvalidRoyalty: "The royalty can be at most 10 %.",
  InvalidName: "The name must be 1 to 64 bytes.",
  ManifestChanged: "The artist changed this project's style since you loaded the page; nothing was charged. Reload to see the new style.",
  RefundNotYetAvailable: "A refund opens a while after the mint, if the token is still not rendered by then.",
  NotTokenOwner: "Only the token's owner can ask for its refund.",
  AlreadyFulfilled: "This token is already rendered and paid out; it cannot be refunded.",
  ProjectNotApproved: "The platform has not approved this project's current style yet; nothing was charged.",
  PriceBelowMinimum: "That price is below the platform's minimum, which pays for each token's render.",
  ProjectStyleRetired: "A style this project blends was retired by its owner: the project can no longer mint. Nothing was charged.",
  ProjectStyleNotAllowed: "A style this project blends no longer admits it (its owner withdrew the approval, or it does not exist). Nothing was charged.",
  InvalidStyles: "A project blends at most 4 different registered styles.",
  InvalidStylesShare: "The styles' share must be 0 to 100 % of the artist's 90 % (0 without styles).",
  StylesConfigChanged: "The project's styles or share changed since they were reviewed: review them again.",
  StylesFixedAfterMint: "This project has sold tokens: its styles and their share stay as they were sold. A new split needs a new project.",
  NotStyleOwner: "Only the style's owner can do this.",
  StyleIsRetired: "This style is retired; it can no longer change.",
  InvalidStyleName: "The style name must be 1 to 64 bytes.",
  InvalidTrigger: "The trigger must be lowercase words (a-z, 0-9, each starting with a letter) separated by single spaces.",
  InvalidAdapter: "The adapter needs a pinned CID and its sha256.",
  AdapterAlreadyRegistered: "This adapter file is already registered as another style: an adapter has one owner.",
  UnknownStyle: "There is no style with that id.",
  UnknownProject: "There is no project with that id.",
  TokenNotMinted: "There is no token with that id.",
  InvalidPrice: "That price is not allowed.",
  InvalidCID: "The CID is missing or too long (at most 100 characters).",
  ZeroHash: "A sha256 of zero is not a hash: pin the content first.",
  ZeroAddress: "The zero address cannot take this role.",
  InvalidDelay: "That delay is outside the contract's bounds.",
  RefundFailed: "The refund could not be sent to the owner's address; nothing changed.",
  WithdrawFailed: "The payment could not be sent to your address; your credit is unchanged.",
  NoUsableRandomness: "This chain gives no usable randomness for the seed.",
  RandomnessNotReady: "The seed's randomness block is not mined yet; the oracle waits for it.",
  StaleMint: "The mint was reorganised out of its block; the oracle renders it again from the canonical one.",
  WeightsNotWhole: "The style weights must add up to exactly 100 %.",
  WrongWeightCount: "One weight is needed per style the project blends.",
  InvalidProof: "This proof does not commit to this token, prompt and metadata.",
  NotPendingOwner: "Only the account this style is being handed to can accept it.",
  ReentrancyGuardReentrantCall: "A contract tried to call back into StyleMint during a payment; refused.",
  SafeCastOverflowedUintDowncast: "A number is too large for the contract to store.",
  AccessControlUnauthorizedAccount: "Your account does not hold the role this needs (admin or oracle).",
  AccessControlBadConfirmation: "Only the account itself can renounce its own role.",
  AccessControlEnforcedDefaultAdminDelay: "The admin hand-over is still in its waiting period.",
  AccessControlEnforcedDefaultAdminRules: "The admin role changes only through the delayed hand-over.",
  AccessControlInvalidDefaultAdmin: "That account is not the pending admin.",
  ERC721NonexistentToken: "There is no such token (it was never minted, or it was refunded and burned).",
  ERC721IncorrectOwner: "That account does not own this token.",
  ERC721InsufficientApproval: "You are neither the owner of this token nor approved to move it.",
  ERC721InvalidApprover: "That account cannot approve transfers of this token.",
  ERC721InvalidOperator: "That address cannot be an operator.",
  ERC721InvalidOwner: "That address cannot own tokens.",
  ERC721InvalidReceiver: "The receiving contract does not accept ERC-721 tokens.",
  ERC721InvalidSender: "That address cannot send this token.",
};

// ethers names a custom error only for calls it decodes itself; a revert in the gas estimate of a
// transaction arrives as "unknown custom error" with the raw data, decoded here with our ABI.
const errorsOf = new Set();

function revertName(error) {
  if (error?.revert?.name) return error.revert.name;
  const data = error?.data ?? error?.info?.error?.data;
  if (typeof data !== "string") return null;
  for (const abi of errorsOf) {
    try {
      const name = abi.parseError(data)?.name;
      if (name) return name;
    } catch { /* not this contract's error */ }
  }
  return null;
}

export function friendly(error) {
  const code = error?.code ?? error?.info?.error?.code ?? error?.error?.code;
  if (code === 4001 || code === "ACTION_REJECTED") return new Error("You rejected the request in your wallet.");
  const name = revertName(error);
  if (name && REVERTS[name]) return new Error(REVERTS[name]);
  const text = `${error?.message ?? ""} ${error?.info?.error?.message ?? ""} ${error?.error?.message ?? ""}`;
  if (code === "INSUFFICIENT_FUNDS" || /insufficient funds/i.test(text)) {
    return new Error("Insufficient funds: your account cannot pay the price plus gas.");
  }
  if (name) return new Error(`The contract refused: ${name}.`);
  return error instanceof Error ? error : new Error(String(error));
}

function chooseFrom(wallets) {
  const dialog = document.getElementById("chooser");
  return new Promise((resolve) => {
    document.getElementById("wallets").replaceChildren(...wallets.map((wallet) =>
      el("li", {}, el("button", {
        "data-wallet": wallet.info.rdns,
        onclick: () => { dialog.close(); resolve(wallet.provider); },
      }, wallet.info.name))));
    dialog.showModal();
  });
}

async function pickProvider() {
  await sleep(100); // let announcements arrive
  const wallets = [...announced.values()];
  if (wallets.length === 1) return wallets[0].provider;
  if (wallets.length > 1) return chooseFrom(wallets);
  if (window.ethereum) return window.ethereum;
  throw new Error("No wallet found: install a browser wallet (EIP-6963 or window.ethereum) to continue.");
}

async function switchNetwork() {
  const info = await contractInfo();
  const chainId = "0x" + info.chain_id.toString(16);
  try {
    await chosen.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (error) {
    if (error?.code !== 4902) { showMessage(friendly(error).message, "error"); return; }
    if (!info.rpc_url) {
      showMessage(`Your wallet does not know chain ${info.chain_id} and this site publishes no public RPC URL: ` +
        "add the network to your wallet by hand.", "error");
      return;
    }
    await chosen.request({ method: "wallet_addEthereumChain", params: [{
      chainId, chainName: `stylemint (chain ${info.chain_id})`, rpcUrls: [info.rpc_url],
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    }] });
  }
  showMessage("Network switched.", "ok");
}

export async function ensureNetwork() {
  const info = await contractInfo();
  const chainId = parseInt(await chosen.request({ method: "eth_chainId" }), 16);
  if (chainId !== info.chain_id) {
    showMessage(`Wrong network: your wallet is on chain ${chainId}, stylemint runs on chain ${info.chain_id}.`,
      "error", { label: "Switch network", onClick: switchNetwork });
    throw Object.assign(new Error("wrong network"), { shown: true });
  }
}

// Use `provider` with `accounts[0]`: show it in the nav and follow the wallet's changes (another
// account: the page reloads for it; another network: checked again, with the switch offer).
function adopt(provider, accounts) {
  chosen = provider;
  account = accounts[0];
  provider.on?.("accountsChanged", (next) => (next?.[0]?.toLowerCase() !== account?.toLowerCase()) && location.reload());
  provider.on?.("chainChanged", () => ensureNetwork().catch(() => {})); // a wrong network shows its own notice
  document.getElementById("account").textContent = short(account);
  document.getElementById("connect").hidden = true;
}

export async function connect() {
  const provider = await pickProvider();
  let accounts;
  try {
    accounts = await provider.request({ method: "eth_requestAccounts" });
  } catch (error) {
    throw friendly(error);
  }
  adopt(provider, accounts);
  await ensureNetwork();
  return account;
}

// A wallet that already authorised this site answers `eth_accounts` without asking the user:
// every page starts connected then. Never opens a wallet prompt or the chooser.
async function restore() {
  await sleep(100); // let announcements arrive
  const wallets = [...announced.values()];
  const provider = wallets.length === 1 ? wallets[0].provider : wallets.length === 0 ? window.ethereum : null;
  if (!provider) return false;
  try {
    const accounts = await provider.request({ method: "eth_accounts" });
    if (!accounts?.length) return false;
    adopt(provider, accounts);
    await ensureNetwork();
    return true;
  } catch {
    return false;
  }
}

export async function currentAccount() {
  return account ?? connect();
}

// The connected account, or null: never asks the wallet.
export function connectedAccount() {
  return account ?? null;
}

// A contract (`{address, abi}` from /api/contract) signing with the connected wallet, on the right
// network; its custom errors are decoded into words from then on.
async function signerFor(info) {
  if (!chosen) await connect();
  else await ensureNetwork();
  const provider = new BrowserProvider(chosen, undefined, { cacheTimeout: -1 });
  const signed = new Contract(info.address, info.abi, await provider.getSigner());
  errorsOf.add(signed.interface);
  return signed;
}

// StyleMint of this deployment.
export async function contract() {
  return signerFor(await contractInfo());
}

// A minter contract (every minter speaks the fixed-price minter's ABI for `priceInfo`,
// `purchase` and `purchaseTo`); `address` from a project's `minter`.
export async function minterAt(address) {
  const info = await contractInfo();
  const kind = Object.keys(info.minters).find((k) => info.minters[k].toLowerCase() === address.toLowerCase());
  return signerFor({ address, abi: info.minter_abis[kind] ?? info.minter_abi });
}

// The approved minter of a kind (`MinterSetPrice`), for an artist choosing how a project sells.
export async function minterOfType(kind) {
  const info = await contractInfo();
  const address = info.minters[kind];
  if (!address) throw new Error(`This deployment has no approved ${kind}; ask the platform admin.`);
  return minterAt(address);
}

// The oracle quorum, whose default admin is the platform admin.
export async function quorum() {
  return signerFor((await contractInfo()).quorum);
}

// The style library (StyleRegistry) of this deployment.
export async function registry() {
  return signerFor((await contractInfo()).style_registry);
}

// Run an action; show its error in words (unless already shown, like the wrong-network notice).
export async function guarded(action) {
  try {
    return await action();
  } catch (error) {
    if (!error.shown) showMessage(friendly(error).message, "error");
    return undefined;
  }
}

// The nav's connect button: one listener per page; `onConnect` runs after a successful connect,
// `onAbsent` when the page opens with no wallet that authorised this site (to say what it needs).
export function initNav({ onConnect, onAbsent } = {}) {
  document.getElementById("connect").addEventListener("click", () => guarded(async () => {
    await connect();
    if (onConnect) await onConnect();
  }));
  restore().then((connected) => (connected ? onConnect && guarded(onConnect) : onAbsent && guarded(onAbsent)));
}

const LOCAL_CHAINS = new Set([31337, 1337]); // anvil's and hardhat's development chains

// In `target`: "Connect a wallet to see `what`" with its own button (it runs `onConnect` after),
// and on a local development chain how to get an account there: its public test keys.
export async function connectPrompt(target, what, onConnect) {
  const info = await contractInfo();
  const local = LOCAL_CHAINS.has(info.chain_id);
  target.replaceChildren(el("div", { class: "connect-prompt" },
    el("p", {}, `Connect a wallet to see ${what}. `,
      el("button", { id: "connect-inline", onclick: () => guarded(async () => { await connect(); await onConnect?.(); }) },
        "Connect wallet")),
    local ? el("p", { class: "hint", id: "dev-accounts" },
      `This server runs a local development chain (chain id ${info.chain_id}${info.rpc_url ? `, RPC ${info.rpc_url}` : ""}). ` +
      "Import one of the public test keys that `make demo` prints into your wallet (the collector is account #4, " +
      "the artist #3, the platform admin #0). Everyone knows these keys: never use them on a real chain.") : ""));
  target.hidden = false;
}

// Send a transaction made by `call` on the contract `signer()` returns, tell the user as it goes,
// then run `after` (a page's refresh) and say `done` (a text, or a function of the contract and the
// receipt that returns one); any refusal is shown in words by `guarded`.
export async function transact(signer, call, done, after) {
  await guarded(async () => {
    const signed = await signer();
    const tx = await call(signed);
    showMessage(`Transaction ${tx.hash} sent…`, "info");
    const receipt = await tx.wait();
    await after?.();  // the page shows the new state before it says done: nothing changes under the reader
    showMessage(`${typeof done === "function" ? done(signed, receipt) : done}.`, "ok");
  });
}

// The first event called `name` that `stylemint` emitted in a transaction receipt.
export function eventIn(stylemint, receipt, name) {
  for (const log of receipt.logs) {
    let parsed = null;
    try { parsed = stylemint.interface.parseLog(log); } catch { /* another contract's log */ }
    if (parsed?.name === name) return parsed;
  }
  throw new Error(`the transaction ${receipt.hash} emitted no ${name} event`);
}
