// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {StyleRegistry} from "./StyleRegistry.sol";
import {OracleQuorum} from "./OracleQuorum.sol";
import {IERC7007} from "./IERC7007.sol";
import {Settlement} from "./Settlement.sol";

/// @title StyleMint: ERC-721 core for AI style projects
/// @notice Artists open style projects (a pinned diffusion style manifest, a price, a capped
/// number of editions), optionally blending styles from the opt-in StyleRegistry. Collectors mint
/// the manifest they saw; the price is held in escrow until an oracle fulfills the token with its
/// seed, metadata and each style's measured weight, then 10 % is credited to the platform, the
/// project's style share of the rest to the styles' owners by weight, and the remainder to the
/// artist, paid out by pull (`withdraw`). A token still unfulfilled
/// `REFUND_DELAY` blocks after its mint can be refunded to its owner (it is burned).
/// @dev Token ids follow Art Blocks: `projectId * 1_000_000 + invocation`, invocation from 0.
/// The seed is `keccak256("stylemint.seed.v2" ‖ chainId ‖ contract ‖ tokenId ‖ mintTxHash ‖
/// prevrandao(mintBlock + RANDOMNESS_DELAY))` (docs/RENDER_SPEC.md). The EVM can read neither a
/// transaction hash nor an old block's RANDAO, so the contract cannot check a seed: it makes the
/// oracle wait for the randomness block and name that block's hash (a reorg of the mint or of the
/// randomness makes the fulfillment revert), and auditors re-derive every seed off chain.
/// Every wei the contract holds is either one token's escrow or one payee's credit.
contract StyleMint is ERC721, ReentrancyGuardTransient, IERC2981, IERC4906, IERC7007 {
    /// @notice Token ids of one project occupy `[projectId * ONE_MILLION, projectId * ONE_MILLION + maxEditions)`.
    uint256 internal constant ONE_MILLION = 1_000_000;
    /// @notice Platform share of every primary sale, in basis points (10 %).
    uint256 internal constant PLATFORM_SHARE_BPS = 1_000;
    /// @notice Highest secondary royalty an artist may set, in basis points (10 %).
    uint256 internal constant MAX_ROYALTY_BPS = 1_000;
    /// @notice Longest accepted CID string (a CIDv1 base32 sha2-256 is 59 characters).
    uint256 internal constant MAX_CID_LENGTH = 100;
    /// @notice Bounds of `RANDOMNESS_DELAY`: at least 2 (the proposer of the mint block knows the
    /// RANDAO of the next one), at most 128 (four epochs, EIP-4399's advice; beyond it delivery
    /// only gets slower).
    uint256 internal constant MIN_RANDOMNESS_DELAY = 2;
    uint256 internal constant MAX_RANDOMNESS_DELAY = 128;

    /// @notice A token's seed uses the RANDAO (`prevrandao`) of block `mintBlock + RANDOMNESS_DELAY`.
    uint256 public immutable RANDOMNESS_DELAY;
    /// @notice A token unfulfilled this many blocks after its mint can be refunded by its owner.
    uint256 public immutable REFUND_DELAY;
    /// @notice True when the deployer declared that this chain's `prevrandao` is not usable
    /// randomness (a constant or a sequencer's choice): seeds are then only as fair as that chain.
    bool public immutable WEAK_RANDOMNESS;
    /// @notice Longest accepted project name, in bytes.
    uint256 internal constant MAX_NAME_LENGTH = 64;
    /// @notice Most styles one project may blend (the manifest's limit too).
    uint256 internal constant MAX_PROJECT_STYLES = 4;
    /// @notice The style library projects blend styles from, fixed at deployment.
    StyleRegistry public immutable STYLE_REGISTRY;
    /// @notice The oracle keys and the quorum M whose agreement settles a token, fixed at deployment.
    OracleQuorum public immutable ORACLES;

    uint256 private constant BPS_DENOMINATOR = 10_000;
    bytes4 private constant ERC4906_INTERFACE_ID = 0x49064906;
    bytes32 private constant BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    /// @dev Everything a mint writes fits the first slot, with the approval it checks; the minter,
    /// style count, royalty and styles' share the second. Prices live in the minters, not here.
    struct Project {
        address artist;
        uint32 invocations;
        uint32 maxEditions;
        bool paused; // set by the artist (the artist still mints artist proofs while paused)
        bool adminPaused; // set by the platform admin; the artist cannot lift it
        bool locked; // manifest and cap frozen forever
        bool approved; // the admin approved the current manifest and styles (`approvedManifestHash`)
        address minter; // the one contract that sells this project, among the admin-approved ones
        uint8 styleCount; // how many styles it blends (a mint without styles reads no style list)
        uint16 royaltyBps;
        uint16 stylesShareBps; // share of the artist's 90 % that goes to the project's styles
        bool priceOpen; // its minter sells before the price is known (an auction with settlement)
        bool toppedUp; // its settled price lies above what each escrow holds: `priceTopUp`
        bytes32 manifestHash;
        string name;
        string manifestCID;
    }

    /// @notice What a minted, unfulfilled token holds: the price paid and its mint block (one slot).
    /// Deleted when the token is fulfilled or refunded, so a nonzero `mintBlock` means "pending".
    struct Escrow {
        uint64 mintBlock;
        uint128 amount;
    }

    /// @notice What the oracle stores per token. `metadataDigest` is the sha2-256 of the metadata
    /// JSON, a single raw IPFS block: its CID (`bafkrei...`) is rebuilt by `tokenMetadataCID`.
    struct Fulfillment {
        bytes32 seed;
        bytes32 metadataDigest;
    }

    /// @notice One token's commitment, as the oracles sign it (`FULFILMENT_TYPEHASH`): the seed, the
    /// metadata digest, the rendered prompt, each style's weight, and the hashes of the mint block
    /// and the randomness block the oracles saw.
    struct FulfillRequest {
        uint256 tokenId;
        bytes32 seed;
        bytes32 metadataDigest;
        string prompt;
        uint16[] weightsBps;
        bytes32 mintBlockHash;
        bytes32 randomnessBlockHash;
    }

    /// @notice Why `fulfillBatch` left an entry out (`FulfillmentSkipped`): the token is already
    /// fulfilled, was never minted (or was refunded), its randomness block is not there yet, or
    /// the entry names a randomness block that a reorg replaced.
    enum SkipReason {
        None,
        AlreadyFulfilled,
        NotMinted,
        RandomnessNotReady,
        StaleMint,
        PriceNotFinal
    }

    /// @dev The credits of one fulfillment transaction, summed per payee in memory and written
    /// once each at the end (a batch of one project writes each payee's credit once).
    struct Ledger {
        address[] payees;
        uint256[] amounts;
        uint256 count;
    }

    /// @notice Id the next `createProject` will return; project ids start at 1.
    uint256 public nextProjectId = 1;
    /// @notice Receives the platform share of every mint.
    address public platformPayout;
    /// @notice `tokenURI` of a minted token before the oracle fulfills it.
    string public placeholderURI;

    /// @notice The manifest hash the platform admin approved for each project; a project mints only
    /// while its current manifest is the approved one (so changing it needs a new approval).
    mapping(uint256 projectId => bytes32 manifestHash) public approvedManifestHash;
    /// @notice The lowest price any project mints at: each mint pays for its render and fulfilment.
    uint256 public minimumPrice;
    /// @notice Minter contracts the admin approved for projects to choose (the minter filter).
    mapping(address minter => bool) public isApprovedMinter;
    /// @notice A new artist address each project's artist proposed, awaiting the admin.
    mapping(uint256 projectId => address) public proposedArtist;
    /// @notice What each token of a project is sold for beyond its escrow, once its auction settled
    /// above the amount its minter escrowed per sale (the base price).
    mapping(uint256 projectId => uint256) public priceTopUp;

    mapping(uint256 projectId => Project) private _projects;
    mapping(uint256 projectId => uint256[] styleIds) private _projectStyles;
    mapping(uint256 tokenId => Escrow) private _escrows;
    mapping(uint256 tokenId => Fulfillment) private _fulfillments;
    mapping(address payee => uint256) private _credits;

    // ---------------------------------------------------------------- events

    /// @notice A project was opened (it starts paused).
    event ProjectCreated(
        uint256 indexed projectId,
        address indexed artist,
        string name,
        string manifestCID,
        bytes32 manifestHash,
        uint256 maxEditions
    );
    /// @notice The artist paused or unpaused minting.
    event ProjectPausedSet(uint256 indexed projectId, bool paused);
    /// @notice The platform admin paused or unpaused minting.
    event ProjectAdminPausedSet(uint256 indexed projectId, bool adminPaused);
    /// @notice The price of future mints changed.
    /// @notice The admin approved (or withdrew approval of) a minter contract for projects to use.
    event MinterApproved(address indexed minter, bool approved);
    /// @notice The artist chose the minter that sells a project.
    event ProjectMinterSet(uint256 indexed projectId, address indexed minter);
    /// @notice The project's minter sells before the price is known: its tokens settle only after it.
    event ProjectPriceOpened(uint256 indexed projectId);
    /// @notice The project's price is final: each token's sale is its escrow plus `topUpPerToken`
    /// (`total` came with the call, for every edition sold so far).
    event ProjectPriceSettled(uint256 indexed projectId, uint256 topUpPerToken, uint256 total);
    /// @notice The artist proposed a new address for themself; the admin accepts it.
    event ArtistAddressProposed(uint256 indexed projectId, address indexed proposed);
    /// @notice A project's artist address changed (royalties and future sales' shares follow it).
    event ArtistAddressChanged(uint256 indexed projectId, address indexed previous, address indexed current);
    /// @notice The edition cap was lowered.
    event ProjectMaxEditionsSet(uint256 indexed projectId, uint256 maxEditions);
    /// @notice The style manifest changed (only possible before locking).
    event ProjectManifestSet(uint256 indexed projectId, string manifestCID, bytes32 manifestHash);
    /// @notice The secondary-sale royalty changed.
    event ProjectRoyaltySet(uint256 indexed projectId, uint256 royaltyBps);
    /// @notice Manifest and cap are frozen from now on.
    event ProjectLocked(uint256 indexed projectId);
    /// @notice The platform admin approved this manifest of the project for minting (zero: revoked).
    event ProjectApproved(uint256 indexed projectId, bytes32 manifestHash);
    /// @notice The platform admin set the minimum mint price.
    event MinimumPriceSet(uint256 minimumPrice);
    /// @notice The styles a project blends and the share of the artist's 90 % they are paid.
    event ProjectStylesSet(uint256 indexed projectId, uint256[] styleIds, uint256 stylesShareBps);
    /// @notice A token was minted; the oracle derives the seed from this log's transaction and the
    /// RANDAO of the block `RANDOMNESS_DELAY` after it.
    /// @param minter the token's first owner (the recipient of `mintTo`)
    /// @param manifestHash the manifest in force at the mint, which the render must use.
    /// @param price what the token was sold for (held in escrow until fulfilment or refund)
    /// @param payer who paid it (the caller; `minter` differs for `mintTo`)
    event Mint(uint256 indexed tokenId, uint256 indexed projectId, address indexed minter, bytes32 manifestHash,
        uint256 price, address payer);
    /// @notice A token's sale was settled at fulfilment: the artist's and the platform's amounts of
    /// its price (the styles' are in `StylesPaid`), one log per token even in a batch.
    event SaleSettled(uint256 indexed tokenId, uint256 price, uint256 artistAmount, uint256 platformAmount);
    /// @notice The oracle attached the token's seed and metadata; the escrow went to artist and platform.
    event TokenFulfilled(uint256 indexed tokenId, bytes32 seed, bytes32 metadataDigest);
    /// @notice A `fulfillBatch` entry left out: the chain's state made it impossible (`reason`).
    event FulfillmentSkipped(uint256 indexed tokenId, SkipReason reason);
    /// @notice What each of a blended token's styles was paid, and why: the weights (basis points,
    /// in the project's style order) the oracle measured for this token's image. A style retired
    /// after the token's mint is still paid: it was sold under that licence.
    event StylesPaid(uint256 indexed tokenId, uint256[] styleIds, uint16[] weightsBps, uint256[] amounts);
    /// @notice An unfulfilled token was burned and its price returned.
    event Refunded(uint256 indexed tokenId, address indexed owner, address to, uint256 amount);
    /// @notice A payee's credit grew from fulfilled sales.
    event Credited(address indexed payee, uint256 amount);
    /// @notice A payee withdrew its credit.
    event Withdrawn(address indexed payee, address indexed to, uint256 amount);
    /// @notice The platform payout address changed.
    event PlatformPayoutSet(address indexed previous, address indexed current);
    /// @notice The placeholder URI of unfulfilled tokens changed.
    event PlaceholderURISet(string placeholderURI);

    // ---------------------------------------------------------------- errors

    /// @notice No project has this id.
    error UnknownProject(uint256 projectId);
    /// @notice The caller is not the project's artist.
    error NotProjectArtist(uint256 projectId, address caller);
    /// @notice The project is locked; manifest and cap cannot change.
    error ProjectIsLocked(uint256 projectId);
    /// @notice Minting is paused by the artist or the platform.
    error ProjectPaused(uint256 projectId);
    /// @notice Every edition of the project is minted.
    error SoldOut(uint256 projectId);
    /// @notice The project's manifest is not the one the collector saw.
    error ManifestChanged(uint256 projectId, bytes32 expected, bytes32 current);
    /// @notice Max editions must be 1..1,000,000 on creation, and later only lower, never below minted.
    error InvalidMaxEditions(uint256 requested, uint256 minimum, uint256 maximum);
    /// @notice Price does not fit 128 bits.
    error InvalidPrice(uint256 price);
    /// @notice Royalty above `MAX_ROYALTY_BPS`.
    error InvalidRoyalty(uint256 royaltyBps);
    /// @notice Empty or oversized name.
    error InvalidName();
    /// @notice Empty or oversized CID.
    error InvalidCID();
    /// @notice A zero manifest hash or a zero seed.
    error ZeroHash();
    /// @notice The zero address where a payee is needed.
    error ZeroAddress();
    /// @notice No token with this id was minted.
    error TokenNotMinted(uint256 tokenId);
    /// @notice The token already has its seed and metadata.
    error AlreadyFulfilled(uint256 tokenId);
    /// @notice The fulfillment names a randomness block that is not (or no longer) canonical: the
    /// mint or its randomness block was reorganised since the oracle derived the seed.
    error StaleMint(uint256 tokenId, uint256 randomnessBlockNumber, bytes32 randomnessBlockHash);
    /// @notice The token's randomness block is not mined yet.
    error RandomnessNotReady(uint256 tokenId, uint256 randomnessBlockNumber);
    /// @notice The caller does not own the token.
    error NotTokenOwner(uint256 tokenId, address caller);
    /// @notice A refund opens `REFUND_DELAY` blocks after the mint.
    error RefundNotYetAvailable(uint256 tokenId, uint256 refundableFromBlock);
    /// @notice The recipient refused the refund; nothing changed.
    error RefundFailed(address to, uint256 amount);
    /// @notice `RANDOMNESS_DELAY` outside its bounds, or `REFUND_DELAY` not after it.
    error InvalidDelay(uint256 randomnessDelay, uint256 refundDelay);
    /// @notice This chain's `prevrandao` is not RANDAO output; deploy with `acceptWeakRandomness`
    /// only after reading docs/RENDER_SPEC.md.
    error NoUsableRandomness(uint256 prevrandao);
    /// @notice The platform admin has not approved the project's current manifest.
    error ProjectNotApproved(uint256 projectId, bytes32 manifestHash);
    /// @notice The price is below the platform's minimum (which pays for the render and fulfilment).
    error PriceBelowMinimum(uint256 price, uint256 minimumPrice);
    /// @notice More styles than `MAX_PROJECT_STYLES`, or one named twice.
    error InvalidStyles(uint256 count, uint256 maximum);
    /// @notice The styles' share must be 0..10,000 basis points, and 0 without styles.
    error InvalidStylesShare(uint256 stylesShareBps);
    /// @notice The style is retired: this project can no longer mint.
    error ProjectStyleRetired(uint256 projectId, uint256 styleId);
    /// @notice The style does not exist, or its owner does not admit this project (any more).
    error ProjectStyleNotAllowed(uint256 projectId, uint256 styleId);
    /// @notice The styles and their share are fixed from a project's first mint: each token is paid
    /// by the split its buyer paid under (a new split is a new project).
    error StylesFixedAfterMint(uint256 projectId, uint256 minted);
    /// @notice The project's styles or share are not the ones the admin reviewed.
    error StylesConfigChanged(uint256 projectId, bytes32 reviewed, bytes32 current);
    /// @notice A fulfillment must carry one weight per project style.
    error WrongWeightCount(uint256 tokenId, uint256 expected, uint256 given);
    /// @notice Style weights must sum to exactly 10,000 basis points.
    error WeightsNotWhole(uint256 totalBps);
    /// @notice The caller has no credit to withdraw.
    error NothingToWithdraw(address payee);
    /// @notice The recipient refused the payment; the credit is kept.
    error WithdrawFailed(address to, uint256 amount);
    /// @notice An ERC-7007 proof that does not commit to this token, prompt and metadata digest.
    /// @notice The project's price is not final yet (its auction has not settled): its tokens are
    /// neither settled nor refunded until it is, and its minter cannot change.
    error PriceNotFinal(uint256 projectId);
    /// @notice A price can be opened only before the first sale, and settled only once opened.
    error PriceNotOpenable(uint256 projectId);
    /// @notice The top-up must cover every edition sold: `topUpPerToken` x editions.
    error WrongTopUp(uint256 expected, uint256 sent);
    /// @notice Only the platform admin (`ORACLES.defaultAdmin()`) may do this.
    error NotAdmin(address caller);
    /// @notice Only the project's minter sells it (`setProjectMinter`).
    error NotProjectMinter(uint256 projectId, address caller);
    /// @notice A project can only be sold by a minter contract the admin approved.
    error MinterNotApproved(address minter);
    /// @notice The admin can only accept the address the artist proposed.
    error NoSuchProposal(uint256 projectId, address proposed);

    // ---------------------------------------------------------------- modifiers

    modifier onlyArtist(uint256 projectId) {
        address artist = _projects[projectId].artist;
        if (artist == address(0)) revert UnknownProject(projectId);
        if (artist != msg.sender) revert NotProjectArtist(projectId, msg.sender);
        _;
    }

    modifier onlyUnlocked(uint256 projectId) {
        if (_projects[projectId].locked) revert ProjectIsLocked(projectId);
        _;
    }

    /// @dev The platform admin is the quorum contract's default admin: one key, one delayed
    /// hand-over (`beginDefaultAdminTransfer` there) for the core and its oracles alike.
    modifier onlyAdmin() {
        if (!ORACLES.hasRole(bytes32(0), msg.sender)) revert NotAdmin(msg.sender);
        _;
    }

    modifier existingProject(uint256 projectId) {
        if (_projects[projectId].artist == address(0)) revert UnknownProject(projectId);
        _;
    }

    /// @notice Deployment parameters; all but the payout and placeholder are fixed forever.
    struct Config {
        address payout; // receives the platform share
        address oracles; // the OracleQuorum whose signatures settle tokens, and whose admin is this one's
        string placeholder; // `tokenURI` before fulfillment
        uint256 randomnessDelay; // D: blocks from the mint to the block whose RANDAO seeds it
        uint256 refundDelay; // R: blocks from the mint until an unfulfilled token is refundable
        bool acceptWeakRandomness; // deploy where prevrandao is not RANDAO (see RENDER_SPEC.md)
        address styleRegistry; // the style library projects blend from
    }

    /// @param config the deployment parameters
    constructor(Config memory config)
        ERC721("StyleMint", "STYLE")
    {
        if (config.payout == address(0) || config.oracles == address(0) || config.styleRegistry == address(0)) {
            revert ZeroAddress();
        }
        if (
            config.randomnessDelay < MIN_RANDOMNESS_DELAY || config.randomnessDelay > MAX_RANDOMNESS_DELAY
                || config.refundDelay <= config.randomnessDelay
        ) revert InvalidDelay(config.randomnessDelay, config.refundDelay);
        // EIP-4399: a prevrandao below 2**64 is a proof-of-work difficulty or a chain's constant.
        if (!config.acceptWeakRandomness && block.prevrandao <= type(uint64).max) {
            revert NoUsableRandomness(block.prevrandao);
        }
        RANDOMNESS_DELAY = config.randomnessDelay;
        REFUND_DELAY = config.refundDelay;
        WEAK_RANDOMNESS = config.acceptWeakRandomness;
        STYLE_REGISTRY = StyleRegistry(config.styleRegistry);
        ORACLES = OracleQuorum(config.oracles);
        platformPayout = config.payout;
        placeholderURI = config.placeholder;
        emit PlatformPayoutSet(address(0), config.payout);
        emit PlaceholderURISet(config.placeholder);
    }

    // ---------------------------------------------------------------- artists

    /// @notice Open a style project; the caller becomes its artist. It starts paused.
    /// @param projectName display name, 1..64 bytes
    /// @param manifestCID CID of the pinned style manifest
    /// @param manifestHash sha256 of the manifest's canonical JSON bytes (as the renderer computes it)
    /// @param maxEditions edition cap, 1..1,000,000
    /// @return projectId the new project's id
    function createProject(
        string calldata projectName,
        string calldata manifestCID,
        bytes32 manifestHash,
        uint256 maxEditions
    ) external returns (uint256 projectId) {
        if (bytes(projectName).length == 0 || bytes(projectName).length > MAX_NAME_LENGTH) revert InvalidName();
        _checkManifest(manifestCID, manifestHash);
        if (maxEditions == 0 || maxEditions > ONE_MILLION) revert InvalidMaxEditions(maxEditions, 1, ONE_MILLION);

        projectId = nextProjectId++;
        Project storage project = _projects[projectId];
        project.artist = msg.sender;
        project.maxEditions = uint32(maxEditions);
        project.paused = true;
        project.manifestHash = manifestHash;
        project.name = projectName;
        project.manifestCID = manifestCID;
        emit ProjectCreated(projectId, msg.sender, projectName, manifestCID, manifestHash, maxEditions);
    }

    /// @notice Pause or unpause minting of one of the caller's projects.
    /// @param projectId the project
    /// @param paused true to stop minting, false to allow it (unless the admin paused it)
    function setProjectPaused(uint256 projectId, bool paused) external onlyArtist(projectId) {
        _projects[projectId].paused = paused;
        emit ProjectPausedSet(projectId, paused);
    }

    /// @notice Choose the minter that sells a project (one of the admin-approved minter contracts);
    /// its sale settings (price, auction, allowlist) are set on that minter.
    /// @param projectId the project
    /// @param minter an approved minter contract
    function setProjectMinter(uint256 projectId, address minter) external onlyArtist(projectId) {
        if (!isApprovedMinter[minter]) revert MinterNotApproved(minter);
        Project storage project = _projects[projectId];
        if (project.priceOpen) {
            // An open price belongs to the auction that sold under it: it ends with it.
            if (project.invocations > 0) revert PriceNotFinal(projectId);
            project.priceOpen = false;
        }
        project.minter = minter;
        emit ProjectMinterSet(projectId, minter);
    }

    /// @notice Propose a new artist address for a project (a new key, a multisig); the admin
    /// accepts it with `acceptArtistAddress`, so a typo cannot give a project away.
    /// @param projectId the project
    /// @param proposed the new address
    function proposeArtistAddress(uint256 projectId, address proposed) external onlyArtist(projectId) {
        if (proposed == address(0)) revert ZeroAddress();
        proposedArtist[projectId] = proposed;
        emit ArtistAddressProposed(projectId, proposed);
    }

    /// @notice Lower the edition cap; it can never rise and never fall below the editions minted.
    /// @param projectId the project (must be unlocked)
    /// @param maxEditions the new cap
    function setProjectMaxEditions(uint256 projectId, uint256 maxEditions)
        external
        onlyArtist(projectId)
        onlyUnlocked(projectId)
    {
        Project storage project = _projects[projectId];
        if (maxEditions > project.maxEditions || maxEditions < project.invocations) {
            revert InvalidMaxEditions(maxEditions, project.invocations, project.maxEditions);
        }
        project.maxEditions = uint32(maxEditions);
        emit ProjectMaxEditionsSet(projectId, maxEditions);
    }

    /// @notice Replace the style manifest (tokens minted from now on render with it).
    /// @param projectId the project (must be unlocked)
    /// @param manifestCID CID of the new pinned manifest
    /// @param manifestHash sha256 of its canonical bytes
    function setProjectManifest(uint256 projectId, string calldata manifestCID, bytes32 manifestHash)
        external
        onlyArtist(projectId)
        onlyUnlocked(projectId)
    {
        _checkManifest(manifestCID, manifestHash);
        Project storage project = _projects[projectId];
        project.manifestCID = manifestCID;
        project.manifestHash = manifestHash;
        project.approved = approvedManifestHash[projectId] == manifestHash; // approvals name a manifest
        emit ProjectManifestSet(projectId, manifestCID, manifestHash);
    }

    /// @notice Set the EIP-2981 royalty on secondary sales, paid to the artist.
    /// @param projectId the project
    /// @param royaltyBps basis points, at most `MAX_ROYALTY_BPS`
    function setProjectRoyalty(uint256 projectId, uint256 royaltyBps) external onlyArtist(projectId) {
        if (royaltyBps > MAX_ROYALTY_BPS) revert InvalidRoyalty(royaltyBps);
        _projects[projectId].royaltyBps = uint16(royaltyBps);
        emit ProjectRoyaltySet(projectId, royaltyBps);
    }

    /// @notice Name the registered styles the project blends (in the order of its manifest's
    /// `styles`) and the share of the artist's 90 % paid to them by measured weight. Each must be
    /// usable by this project now (open, or approved by its owner). Only before the first mint:
    /// afterwards every pending token would be settled by a split it was not sold under. What the
    /// admin approved changes, so the approval is withdrawn until the admin approves again.
    /// @param projectId the project (must be unlocked and have minted nothing)
    /// @param styleIds up to `MAX_PROJECT_STYLES` distinct style ids
    /// @param stylesShareBps share of the artist's 90 % for the styles, 0..10,000 (0 without styles)
    function setProjectStyles(uint256 projectId, uint256[] calldata styleIds, uint256 stylesShareBps)
        external
        onlyArtist(projectId)
        onlyUnlocked(projectId)
    {
        uint256 minted = _projects[projectId].invocations;
        if (minted > 0) revert StylesFixedAfterMint(projectId, minted);
        uint256 count = styleIds.length;
        if (count > MAX_PROJECT_STYLES) revert InvalidStyles(count, MAX_PROJECT_STYLES);
        if (stylesShareBps > BPS_DENOMINATOR || (count == 0 && stylesShareBps != 0)) {
            revert InvalidStylesShare(stylesShareBps);
        }
        for (uint256 i = 0; i < count; ++i) {
            for (uint256 j = 0; j < i; ++j) {
                if (styleIds[i] == styleIds[j]) revert InvalidStyles(count, MAX_PROJECT_STYLES);
            }
            _requireUsable(projectId, styleIds[i]);
        }
        _projectStyles[projectId] = styleIds;
        Project storage project = _projects[projectId];
        project.stylesShareBps = uint16(stylesShareBps);
        project.styleCount = uint8(count);
        emit ProjectStylesSet(projectId, styleIds, stylesShareBps);
        if (approvedManifestHash[projectId] != bytes32(0)) {
            delete approvedManifestHash[projectId];
            project.approved = false;
            emit ProjectApproved(projectId, bytes32(0));
        }
    }

    /// @notice Freeze manifest, styles and edition cap forever, so nothing that changes a render
    /// or its split can change. The styles' consent becomes a licence: retiring a style or
    /// withdrawing an approval no longer stops the remaining editions (they keep paying it).
    /// @param projectId the project (must be unlocked)
    function lockProject(uint256 projectId) external onlyArtist(projectId) onlyUnlocked(projectId) {
        _projects[projectId].locked = true;
        emit ProjectLocked(projectId);
    }

    // ---------------------------------------------------------------- platform admin

    /// @notice Pause or unpause any project from the platform side; the artist cannot override it.
    /// @param projectId the project
    /// @param adminPaused true to stop minting
    function setProjectAdminPaused(uint256 projectId, bool adminPaused)
        external
        onlyAdmin
        existingProject(projectId)
    {
        _projects[projectId].adminPaused = adminPaused;
        emit ProjectAdminPausedSet(projectId, adminPaused);
    }

    /// @notice Approve a project's whole sale configuration for minting (curation, as Art Blocks
    /// does): the manifest and the styles with their share, as reviewed. Revoke with a zero
    /// manifest hash. If the artist sets another manifest minting stops until that one is
    /// approved; setting styles withdraws the approval. A change made between the review and this
    /// call (or front-running it) makes it revert, so what is approved is what was reviewed.
    /// @param projectId the project
    /// @param manifestHash the manifest hash approved (normally the project's current one)
    /// @param stylesHash `stylesConfigHash(projectId)` as reviewed (ignored when revoking)
    function approveProject(uint256 projectId, bytes32 manifestHash, bytes32 stylesHash)
        external
        onlyAdmin
        existingProject(projectId)
    {
        if (manifestHash != bytes32(0)) {
            bytes32 current = stylesConfigHash(projectId);
            if (stylesHash != current) revert StylesConfigChanged(projectId, stylesHash, current);
        }
        approvedManifestHash[projectId] = manifestHash;
        Project storage project = _projects[projectId];
        project.approved = manifestHash != bytes32(0) && manifestHash == project.manifestHash;
        emit ProjectApproved(projectId, manifestHash);
    }

    /// @notice Approve a minter contract for projects to choose, or withdraw the approval (which
    /// stops new assignments; a project already using it is stopped by pausing it).
    /// @param minter the minter contract
    /// @param approved whether artists may choose it
    function setMinterApproved(address minter, bool approved) external onlyAdmin {
        if (minter == address(0)) revert ZeroAddress();
        isApprovedMinter[minter] = approved;
        emit MinterApproved(minter, approved);
    }

    /// @notice Accept the address the artist proposed: the project, its royalties and the artist's
    /// share of every later settlement move to it (credits already earned stay with the old one).
    /// @param projectId the project
    /// @param proposed the address the artist proposed (named again, so that a changed proposal
    /// cannot slip under an acceptance)
    function acceptArtistAddress(uint256 projectId, address proposed) external onlyAdmin {
        if (proposed == address(0) || proposedArtist[projectId] != proposed) revert NoSuchProposal(projectId, proposed);
        delete proposedArtist[projectId];
        Project storage project = _projects[projectId];
        emit ArtistAddressChanged(projectId, project.artist, proposed);
        project.artist = proposed;
    }

    /// @notice Set the lowest amount any sale may put in a token's escrow (each mint pays for its
    /// render and fulfilment; a project whose minter sells below it stops minting).
    /// @param price the minimum, in wei
    function setMinimumPrice(uint256 price) external onlyAdmin {
        if (price > type(uint128).max) revert InvalidPrice(price);
        minimumPrice = price;
        emit MinimumPriceSet(price);
    }

    /// @notice Set where future platform shares are credited (past credits stay with their payee).
    /// @param payout the new payout address
    function setPlatformPayout(address payout) external onlyAdmin {
        if (payout == address(0)) revert ZeroAddress();
        emit PlatformPayoutSet(platformPayout, payout);
        platformPayout = payout;
    }

    /// @notice Set the `tokenURI` of tokens not yet fulfilled.
    /// @param placeholder the new URI
    function setPlaceholderURI(string calldata placeholder) external onlyAdmin {
        placeholderURI = placeholder;
        emit PlaceholderURISet(placeholder);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    // ---------------------------------------------------------------- collectors

    /// @notice Mint the next edition of a project for a sale its minter made; `msg.value` becomes
    /// the token's escrow, settled at fulfilment or refunded.
    /// @dev Only the project's minter calls it, after taking payment by its own rules (a price, an
    /// auction, an allowlist). The artist mints artist proofs while the project is paused (not
    /// while the admin paused it). A token minted to its payer is minted with `_mint` (the payer
    /// chose to buy it); to anyone else with `_safeMint`, whose hook runs last, after every state
    /// change, under the reentrancy guard.
    /// @param to the token's owner
    /// @param projectId the project
    /// @param expectedManifestHash the manifest hash the buyer was shown; the mint reverts with
    /// `ManifestChanged` if the artist replaced the manifest since
    /// @param payer who paid the minter (recorded in `Mint`; the artist may mint while paused)
    /// @return tokenId `projectId * 1_000_000 + invocation`
    function mintFromMinter(address to, uint256 projectId, bytes32 expectedManifestHash, address payer)
        external
        payable
        nonReentrant
        returns (uint256 tokenId)
    {
        if (to == address(0)) revert ZeroAddress();
        tokenId = _mintEdition(to, projectId, expectedManifestHash, payer);
        if (to == payer) {
            _mint(to, tokenId);
        } else {
            _safeMint(to, tokenId);
        }
    }

    /// @notice Called by a project's minter before its first sale when it sells before the price is
    /// known (a Dutch auction with settlement): it escrows a lower bound per sale, and the
    /// project's tokens settle (and refund) only after `settlePrice`.
    /// @param projectId the project
    function openPrice(uint256 projectId) external {
        Project storage project = _projects[projectId];
        if (msg.sender != project.minter) revert NotProjectMinter(projectId, msg.sender);
        if (project.invocations > 0 || project.toppedUp) revert PriceNotOpenable(projectId);
        project.priceOpen = true;
        emit ProjectPriceOpened(projectId);
    }

    /// @notice Called by a project's minter when its price is final: `msg.value` is
    /// `topUpPerToken` for every edition sold, added to each token's sale when it settles (or
    /// refunds). Tokens sold later escrow the final price in full.
    /// @param projectId the project
    /// @param topUpPerToken the settled price less what each sale escrowed
    function settlePrice(uint256 projectId, uint256 topUpPerToken) external payable {
        Project storage project = _projects[projectId];
        if (msg.sender != project.minter) revert NotProjectMinter(projectId, msg.sender);
        if (!project.priceOpen) revert PriceNotOpenable(projectId);
        uint256 expected = topUpPerToken * project.invocations;
        if (msg.value != expected) revert WrongTopUp(expected, msg.value);
        project.priceOpen = false;
        if (topUpPerToken > 0) {
            project.toppedUp = true;
            priceTopUp[projectId] = topUpPerToken;
        }
        emit ProjectPriceSettled(projectId, topUpPerToken, msg.value);
    }

    /// @notice Burn an unfulfilled token `REFUND_DELAY` blocks after its mint and pay its price back to the caller.
    /// @param tokenId a token the caller owns
    function refund(uint256 tokenId) external {
        _refund(tokenId, payable(msg.sender));
    }

    /// @notice `refund`, paying another address (for owners that cannot receive ether).
    /// @param tokenId a token the caller owns
    /// @param to the recipient of the price
    function refundTo(uint256 tokenId, address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        _refund(tokenId, to);
    }

    /// @notice Withdraw the caller's whole credit to itself.
    function withdraw() external {
        _withdraw(payable(msg.sender), payable(msg.sender));
    }

    /// @notice Push a payee's whole credit to the payee itself (never elsewhere): anyone may call
    /// it, so a payee that is a contract unable to call `withdraw` (a splitter) is still paid.
    /// @param payee the account whose credit is paid out, to itself
    function withdrawFor(address payable payee) external {
        _withdraw(payee, payee);
    }

    /// @notice Withdraw the caller's whole credit to another address (for payees that cannot receive ether).
    /// @param to the recipient
    function withdrawTo(address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(payable(msg.sender), to);
    }

    // ---------------------------------------------------------------- oracle

    /// @notice Settle tokens: attach each one's seed and metadata, once, and release its escrow by
    /// `splitSale`, when at least M oracles (`ORACLES.threshold()`) signed this very settlement
    /// (EIP-712, `SETTLEMENT_TYPEHASH`, signers ascending). Anyone may submit it: the signatures,
    /// not the sender, decide. An entry the chain's state makes impossible now (its token already
    /// fulfilled, not minted, its randomness block not there yet, or replaced by a reorg) is
    /// skipped with `FulfillmentSkipped` instead of reverting the batch, so a settlement mined
    /// after a reorg fulfils what is still true and changes nothing else. A malformed entry (zero
    /// seed, wrong weights) reverts the whole batch.
    /// @dev `randomnessBlockHash` is the hash of block `mintBlock + RANDOMNESS_DELAY` as the
    /// oracles saw it; that block's hash fixes every block before it, so while it is within the
    /// EVM's 256-block `blockhash` window a commitment derived from a replaced mint or randomness
    /// block is skipped (`StaleMint`). Credits are summed per payee in memory, written once each.
    /// @param requests the signed commitments, in the signed order
    /// @param signatures M or more oracle signatures over the settlement, signers ascending
    function fulfillBatch(FulfillRequest[] calldata requests, bytes[] calldata signatures) external {
        bytes32[] memory items = new bytes32[](requests.length);
        for (uint256 i = 0; i < requests.length; ++i) {
            items[i] = fulfilmentHash(requests[i]);
        }
        ORACLES.requireQuorum(settlementHash(items), signatures);
        bytes[] memory signed = signatures; // copied once: every AigcData event carries them
        Ledger memory ledger = _newLedger(1 + requests.length * (1 + MAX_PROJECT_STYLES));
        for (uint256 i = 0; i < requests.length; ++i) {
            FulfillRequest calldata request = requests[i];
            SkipReason skip = _skipReason(request.tokenId, request.randomnessBlockHash);
            if (skip != SkipReason.None) {
                emit FulfillmentSkipped(request.tokenId, skip);
                continue;
            }
            _fulfill(
                request.tokenId,
                request.seed,
                request.metadataDigest,
                request.randomnessBlockHash,
                request.weightsBps,
                ledger
            );
            _emitAigcData(request, items, i, signed);
        }
        _creditAll(ledger);
    }

    /// @dev ERC-7007's event for one settled entry, with its whole proof (a function of its own:
    /// the ABI encoding of the proof needs its own stack frame).
    function _emitAigcData(
        FulfillRequest calldata request,
        bytes32[] memory items,
        uint256 index,
        bytes[] memory signatures
    ) private {
        Settlement.Proof memory proof = Settlement.Proof(
            request.tokenId,
            request.seed,
            request.weightsBps,
            request.mintBlockHash,
            request.randomnessBlockHash,
            items,
            index,
            signatures
        );
        emit AigcData(request.tokenId, bytes(request.prompt), abi.encodePacked(request.metadataDigest), abi.encode(proof));
    }

    /// @notice ERC-7007: settle one token from a signed settlement (`fulfillBatch` of that one
    /// entry; anyone may submit). `prompt` is the rendered prompt, `aigcData` the 32-byte metadata
    /// digest, `proof` an ABI-encoded `Settlement.Proof`, checked by the quorum contract (which
    /// reverts with `InvalidProof` or a signature error). Reverts where `fulfillBatch` would skip.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
    {
        (bytes32 seed, bytes32 randomnessBlockHash, uint16[] memory weightsBps) =
            ORACLES.requireProof(tokenId, prompt, aigcData, proof);
        Ledger memory ledger = _newLedger(2 + MAX_PROJECT_STYLES);
        _fulfill(tokenId, seed, bytes32(aigcData), randomnessBlockHash, weightsBps, ledger);
        emit AigcData(tokenId, prompt, aigcData, proof);
        _creditAll(ledger);
    }

    /// @notice ERC-7007: whether `proof` holds M valid signatures of distinct current oracles over
    /// a settlement that commits to this output (`prompt`, `aigcData`: the metadata digest). It
    /// says nothing about whether the token was settled with it (`tokenSeed`, `tokenMetadataCID`).
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success)
    {
        return ORACLES.verifyProof(prompt, aigcData, proof);
    }

    /// @notice EIP-712 struct hash of one token's commitment (`Settlement.FULFILMENT_TYPEHASH`).
    function fulfilmentHash(FulfillRequest calldata request) public pure returns (bytes32) {
        return Settlement.fulfilmentHash(
            request.tokenId,
            request.seed,
            request.metadataDigest,
            keccak256(bytes(request.prompt)),
            request.weightsBps,
            request.mintBlockHash,
            request.randomnessBlockHash
        );
    }

    /// @notice EIP-712 struct hash of a settlement of these commitments (struct hashes, in order);
    /// the oracles sign `ORACLES.digest(settlementHash(...))`.
    function settlementHash(bytes32[] memory fulfilments) public view returns (bytes32) {
        return Settlement.settlementHash(address(this), fulfilments);
    }

    /// @dev Why the chain's state makes fulfilling `tokenId` with this randomness block impossible
    /// now, or None: the conditions `_fulfill` reverts on, in its order.
    function _skipReason(uint256 tokenId, bytes32 randomnessBlockHash) private view returns (SkipReason) {
        uint256 mintBlock = _escrows[tokenId].mintBlock;
        if (!(mintBlock > 0)) {
            return _ownerOf(tokenId) == address(0) ? SkipReason.NotMinted : SkipReason.AlreadyFulfilled;
        }
        uint256 randomnessBlock = mintBlock + RANDOMNESS_DELAY;
        if (block.number <= randomnessBlock) return SkipReason.RandomnessNotReady;
        bytes32 canonical = blockhash(randomnessBlock);
        if (canonical != bytes32(0) && canonical != randomnessBlockHash) return SkipReason.StaleMint;
        if (_projects[tokenId / ONE_MILLION].priceOpen) return SkipReason.PriceNotFinal;
        return SkipReason.None;
    }

    // ---------------------------------------------------------------- views

    /// @notice The split of one sale; the one place where it is computed.
    /// @dev Platform: `floor(price * 10 %)`. Styles' pool: `floor(rest * stylesShareBps / 10000)`.
    /// Style i: `floor(pool * weightsBps[i] / 10000)`. Artist: everything else, so the parts always
    /// add up to `price` and no wei is left unassigned; `mulDiv` cannot overflow for any uint256.
    /// @param price sale price in wei
    /// @param stylesShareBps share of the artist's 90 % that goes to the styles (0..10,000)
    /// @param weightsBps each style's weight; empty, or summing to exactly 10,000
    /// @return artistShare the rest (90 % less the styles' amounts, plus every rounding remainder)
    /// @return platformShare 10 %, rounded down
    /// @return styleShares each style's amount, in the order of `weightsBps`
    function splitSale(uint256 price, uint256 stylesShareBps, uint16[] memory weightsBps)
        public
        pure
        returns (uint256 artistShare, uint256 platformShare, uint256[] memory styleShares)
    {
        if (stylesShareBps > BPS_DENOMINATOR) revert InvalidStylesShare(stylesShareBps);
        platformShare = Math.mulDiv(price, PLATFORM_SHARE_BPS, BPS_DENOMINATOR);
        artistShare = price - platformShare;
        styleShares = new uint256[](weightsBps.length);
        if (weightsBps.length == 0) return (artistShare, platformShare, styleShares);
        uint256 pool = Math.mulDiv(artistShare, stylesShareBps, BPS_DENOMINATOR);
        uint256 total = 0;
        for (uint256 i = 0; i < weightsBps.length; ++i) {
            total += weightsBps[i];
            styleShares[i] = Math.mulDiv(pool, weightsBps[i], BPS_DENOMINATOR);
            artistShare -= styleShares[i];
        }
        if (total != BPS_DENOMINATOR) revert WeightsNotWhole(total);
    }

    /// @notice The styles a project blends and the share of the artist's 90 % they are paid.
    /// @param projectId the project
    /// @return styleIds registry ids, in the order of the manifest's `styles`
    /// @return stylesShareBps the styles' share, in basis points
    function projectStyles(uint256 projectId)
        external
        view
        existingProject(projectId)
        returns (uint256[] memory styleIds, uint256 stylesShareBps)
    {
        return (_projectStyles[projectId], _projects[projectId].stylesShareBps);
    }

    /// @notice What the admin reviews and approves of a project besides its manifest: its styles
    /// (ids, in order) and their share, as keccak256(abi.encode(uint256[] styleIds, uint256 stylesShareBps)).
    /// @param projectId the project
    /// @return the hash `approveProject` must be given
    function stylesConfigHash(uint256 projectId) public view returns (bytes32) {
        return keccak256(abi.encode(_projectStyles[projectId], uint256(_projects[projectId].stylesShareBps)));
    }

    /// @notice All stored data of a project.
    /// @param projectId the project
    /// @return the project struct
    function projectInfo(uint256 projectId) external view existingProject(projectId) returns (Project memory) {
        return _projects[projectId];
    }

    /// @notice Editions that can still be minted.
    /// @param projectId the project
    /// @return remaining `maxEditions - invocations`
    function remainingEditions(uint256 projectId) external view existingProject(projectId) returns (uint256) {
        Project storage project = _projects[projectId];
        return project.maxEditions - project.invocations;
    }

    /// @notice The project a minted token belongs to.
    /// @param tokenId the token
    /// @return projectId `tokenId / 1_000_000`
    function tokenProject(uint256 tokenId) external view returns (uint256) {
        _requireMinted(tokenId);
        return tokenId / ONE_MILLION;
    }

    /// @notice The seed a token was rendered from; zero until fulfilled.
    /// @param tokenId the token
    /// @return seed the fulfilled seed, or zero
    function tokenSeed(uint256 tokenId) external view returns (bytes32) {
        _requireMinted(tokenId);
        return _fulfillments[tokenId].seed;
    }

    /// @notice The metadata CID of a token (`bafkrei...`); empty until fulfilled.
    /// @param tokenId the token
    /// @return the CID string
    function tokenMetadataCID(uint256 tokenId) public view returns (string memory) {
        _requireMinted(tokenId);
        bytes32 digest = _fulfillments[tokenId].metadataDigest;
        return digest == bytes32(0) ? "" : _rawCid(digest);
    }

    /// @notice A token's escrow: its mint block and the price held, both zero once fulfilled.
    /// @param tokenId a minted token
    /// @return mintBlock the block of its mint (zero once fulfilled)
    /// @return amount the price held (zero once fulfilled)
    function escrowOf(uint256 tokenId) external view returns (uint256 mintBlock, uint256 amount) {
        _requireMinted(tokenId);
        Escrow storage escrow = _escrows[tokenId];
        return (escrow.mintBlock, escrow.amount);
    }

    /// @notice Whether the oracle has fulfilled a token.
    /// @param tokenId the token
    /// @return true once fulfilled
    function isFulfilled(uint256 tokenId) external view returns (bool) {
        _requireMinted(tokenId);
        return _fulfillments[tokenId].seed != bytes32(0);
    }

    /// @notice Ether a payee can withdraw.
    /// @param payee the payee
    /// @return the credit in wei
    function creditOf(address payee) external view returns (uint256) {
        return _credits[payee];
    }

    /// @notice `ipfs://<metadataCID>` once fulfilled, the placeholder URI before.
    /// @param tokenId a minted token
    /// @return the token's URI
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireMinted(tokenId);
        bytes32 digest = _fulfillments[tokenId].metadataDigest;
        if (digest == bytes32(0)) return placeholderURI;
        return string.concat("ipfs://", _rawCid(digest));
    }

    /// @notice EIP-2981: the project's artist receives `royaltyBps` of a secondary sale.
    /// @param tokenId a minted token
    /// @param salePrice the sale price
    /// @return receiver the artist
    /// @return royaltyAmount `salePrice * royaltyBps / 10_000`
    function royaltyInfo(uint256 tokenId, uint256 salePrice)
        external
        view
        returns (address receiver, uint256 royaltyAmount)
    {
        _requireMinted(tokenId);
        Project storage project = _projects[tokenId / ONE_MILLION];
        return (project.artist, (salePrice * project.royaltyBps) / BPS_DENOMINATOR);
    }

    /// @notice ERC-165: ERC-721 (+ metadata), ERC-2981, ERC-4906 and ERC-7007.
    /// @param interfaceId the interface id
    /// @return whether it is supported
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC2981).interfaceId || interfaceId == ERC4906_INTERFACE_ID
            || interfaceId == type(IERC7007).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    function _checkManifest(string calldata manifestCID, bytes32 manifestHash) private pure {
        if (bytes(manifestCID).length == 0 || bytes(manifestCID).length > MAX_CID_LENGTH) revert InvalidCID();
        if (manifestHash == bytes32(0)) revert ZeroHash();
    }

    /// @dev The checks and bookkeeping shared by `mint` and `mintTo`; the caller mints the token
    /// after it (the order of checks-effects-interactions: `_safeMint`'s hook comes last).
    function _mintEdition(address to, uint256 projectId, bytes32 expectedManifestHash, address payer)
        private
        returns (uint256 tokenId)
    {
        Project storage project = _projects[projectId];
        address artist = project.artist;
        if (artist == address(0)) revert UnknownProject(projectId);
        if (msg.sender != project.minter) revert NotProjectMinter(projectId, msg.sender);
        if (project.adminPaused || (project.paused && payer != artist)) revert ProjectPaused(projectId);
        uint256 invocation = project.invocations;
        if (invocation >= project.maxEditions) revert SoldOut(projectId);
        bytes32 manifestHash = project.manifestHash;
        if (manifestHash != expectedManifestHash) revert ManifestChanged(projectId, expectedManifestHash, manifestHash);
        if (!project.approved) revert ProjectNotApproved(projectId, manifestHash);
        uint256 price = msg.value;
        if (price < minimumPrice) revert PriceBelowMinimum(price, minimumPrice);
        if (!project.locked && project.styleCount > 0) {
            // Consent is a licence once the project is locked: its remaining editions mint (and
            // pay the style's owner) whatever the owner decides later.
            uint256[] storage styleIds = _projectStyles[projectId];
            for (uint256 i = 0; i < styleIds.length; ++i) {
                _requireUsable(projectId, styleIds[i]);
            }
        }

        project.invocations = uint32(invocation + 1);
        tokenId = projectId * ONE_MILLION + invocation;
        _escrows[tokenId] = Escrow(uint64(block.number), uint128(price));
        emit Mint(tokenId, projectId, to, manifestHash, price, payer);
    }

    /// @dev Checks and effects of one fulfillment; its split goes into `ledger` for the caller to credit.
    function _fulfill(
        uint256 tokenId,
        bytes32 seed,
        bytes32 metadataDigest,
        bytes32 randomnessBlockHash,
        uint16[] memory weightsBps,
        Ledger memory ledger
    ) private {
        Escrow memory escrow = _escrows[tokenId];
        if (!(escrow.mintBlock > 0)) {
            if (_ownerOf(tokenId) == address(0)) revert TokenNotMinted(tokenId);
            revert AlreadyFulfilled(tokenId);
        }
        if (seed == bytes32(0) || metadataDigest == bytes32(0)) revert ZeroHash();
        uint256 randomnessBlock = escrow.mintBlock + RANDOMNESS_DELAY;
        if (block.number <= randomnessBlock) revert RandomnessNotReady(tokenId, randomnessBlock);
        bytes32 canonical = blockhash(randomnessBlock);
        if (canonical != bytes32(0) && canonical != randomnessBlockHash) {
            revert StaleMint(tokenId, randomnessBlock, randomnessBlockHash);
        }
        delete _escrows[tokenId];
        _fulfillments[tokenId] = Fulfillment(seed, metadataDigest);
        emit TokenFulfilled(tokenId, seed, metadataDigest);
        emit MetadataUpdate(tokenId);
        _settle(tokenId, escrow.amount, weightsBps, ledger);
    }

    /// @dev The sale's split into `ledger`: the platform, each style's current owner by weight, the
    /// artist. The styles and share are the mint's (fixed from the first mint), and the style was
    /// usable when the token was sold, so its owner is paid even if it retired since. The registry
    /// is this deployment's own immutable contract, read only.
    function _settle(uint256 tokenId, uint256 price, uint16[] memory weightsBps, Ledger memory ledger) private {
        uint256 projectId = tokenId / ONE_MILLION;
        Project storage project = _projects[projectId];
        if (project.priceOpen) revert PriceNotFinal(projectId);
        if (project.toppedUp) price += priceTopUp[projectId];
        uint256 count = project.styleCount;
        if (weightsBps.length != count) revert WrongWeightCount(tokenId, count, weightsBps.length);
        (uint256 artistShare, uint256 platformShare, uint256[] memory styleShares) =
            splitSale(price, project.stylesShareBps, weightsBps);
        if (count > 0) {
            uint256[] memory ids = _projectStyles[projectId];
            for (uint256 i = 0; i < count; ++i) {
                _record(ledger, STYLE_REGISTRY.stylePayee(ids[i]), styleShares[i]);
            }
            emit StylesPaid(tokenId, ids, weightsBps, styleShares);
        }
        emit SaleSettled(tokenId, price, artistShare, platformShare);
        _record(ledger, project.artist, artistShare);
        _record(ledger, platformPayout, platformShare);
    }

    /// @dev Reverts with why a project may not use a style now (retired, or not admitted).
    function _requireUsable(uint256 projectId, uint256 styleId) private view {
        if (STYLE_REGISTRY.mayUse(styleId, address(this), projectId)) return;
        (address holder, bool retired) = STYLE_REGISTRY.styleOwner(styleId);
        if (holder != address(0) && retired) revert ProjectStyleRetired(projectId, styleId);
        revert ProjectStyleNotAllowed(projectId, styleId);
    }

    function _newLedger(uint256 capacity) private pure returns (Ledger memory) {
        return Ledger(new address[](capacity), new uint256[](capacity), 0);
    }

    /// @dev Adds `amount` to the payee's entry (linear: a transaction has a handful of payees).
    function _record(Ledger memory ledger, address payee, uint256 amount) private pure {
        for (uint256 i = 0; i < ledger.count; ++i) {
            if (ledger.payees[i] == payee) {
                ledger.amounts[i] += amount;
                return;
            }
        }
        ledger.payees[ledger.count] = payee;
        ledger.amounts[ledger.count] = amount;
        ++ledger.count;
    }

    function _creditAll(Ledger memory ledger) private {
        for (uint256 i = 0; i < ledger.count; ++i) {
            _credit(ledger.payees[i], ledger.amounts[i]);
        }
    }

    /// @dev Checks-effects-interactions: escrow deleted and token burned before the payment; a
    /// refusing recipient reverts it all, and the guard stops re-entry.
    function _refund(uint256 tokenId, address payable to) private nonReentrant {
        address holder = _ownerOf(tokenId);
        if (holder == address(0)) revert TokenNotMinted(tokenId);
        if (holder != msg.sender) revert NotTokenOwner(tokenId, msg.sender);
        Escrow memory escrow = _escrows[tokenId];
        if (!(escrow.mintBlock > 0)) revert AlreadyFulfilled(tokenId);
        uint256 refundableFrom = escrow.mintBlock + REFUND_DELAY;
        if (block.number < refundableFrom) revert RefundNotYetAvailable(tokenId, refundableFrom);
        uint256 projectId = tokenId / ONE_MILLION;
        Project storage project = _projects[projectId];
        if (project.priceOpen) revert PriceNotFinal(projectId); // the auction's settlement comes first
        uint256 amount = escrow.amount + (project.toppedUp ? priceTopUp[projectId] : 0);
        delete _escrows[tokenId];
        _burn(tokenId);
        emit Refunded(tokenId, holder, to, amount);
        if (amount > 0) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert RefundFailed(to, amount);
        }
    }

    function _credit(address payee, uint256 amount) private {
        if (amount > 0) {
            _credits[payee] += amount;
            emit Credited(payee, amount);
        }
    }

    /// @dev The CIDv1 of a raw block with this sha2-256 digest, as IPFS spells it: multibase
    /// prefix `b`, then RFC 4648 base32 (lowercase, unpadded) of `0x01 0x55 0x12 0x20 ‖ digest`.
    /// Written here because OpenZeppelin has Base64 but no Base32.
    function _rawCid(bytes32 digest) private pure returns (string memory) {
        bytes memory data = abi.encodePacked(bytes4(0x01551220), digest);
        bytes memory out = new bytes(59);
        out[0] = "b";
        uint256 buffer = 0;
        uint256 bits = 0;
        uint256 j = 1;
        for (uint256 i = 0; i < data.length; ++i) {
            buffer = (buffer << 8) | uint8(data[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[j++] = BASE32_ALPHABET[(buffer >> bits) & 31];
            }
        }
        out[j] = BASE32_ALPHABET[(buffer << (5 - bits)) & 31]; // 288 bits: 57 digits and 3 bits left
        return string(out);
    }

    /// @dev Checks-effects-interactions: the credit is zeroed before the call, restored by the
    /// revert if the recipient refuses, and the guard stops re-entry into mint or withdraw.
    function _withdraw(address payee, address payable to) private nonReentrant {
        uint256 amount = _credits[payee];
        if (amount == 0) revert NothingToWithdraw(payee);
        _credits[payee] = 0;
        emit Withdrawn(payee, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed(to, amount);
    }

    function _requireMinted(uint256 tokenId) private view {
        if (_ownerOf(tokenId) == address(0)) revert TokenNotMinted(tokenId);
    }
}
