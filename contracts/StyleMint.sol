// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title StyleMint: ERC-721 core for AI style projects
/// @notice Artists open style projects (a pinned diffusion style manifest, a price, a capped
/// number of editions). Collectors mint; 90 % of each sale is credited to the artist and 10 % to
/// the platform, paid out by pull (`withdraw`). An oracle renders each token from the seed
/// `keccak256(mintTxHash ‖ mintBlockHash)` and fulfills it once with that seed and the CID of the
/// metadata it pinned.
/// @dev Token ids follow Art Blocks: `projectId * 1_000_000 + invocation`, invocation from 0.
/// Payments are pull-only so that no recipient (reverting, gas-griefing or re-entering) can block
/// a mint; every wei received is credited to exactly one payee at the moment of the mint.
contract StyleMint is ERC721, AccessControl, ReentrancyGuardTransient, IERC2981, IERC4906 {
    /// @notice Role allowed to fulfill tokens with their seed and metadata CID.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    /// @notice Token ids of one project occupy `[projectId * ONE_MILLION, projectId * ONE_MILLION + maxEditions)`.
    uint256 public constant ONE_MILLION = 1_000_000;
    /// @notice Platform share of every primary sale, in basis points (10 %).
    uint256 public constant PLATFORM_SHARE_BPS = 1_000;
    /// @notice Highest secondary royalty an artist may set, in basis points (10 %).
    uint256 public constant MAX_ROYALTY_BPS = 1_000;
    /// @notice Longest accepted CID string (a CIDv1 base32 sha2-256 is 59 characters).
    uint256 public constant MAX_CID_LENGTH = 100;
    /// @notice Longest accepted project name, in bytes.
    uint256 public constant MAX_NAME_LENGTH = 64;

    uint256 private constant BPS_DENOMINATOR = 10_000;
    bytes4 private constant ERC4906_INTERFACE_ID = 0x49064906;

    /// @dev Everything `mint` reads and writes fits the first slot; price and royalty the second.
    struct Project {
        address artist;
        uint32 invocations;
        uint32 maxEditions;
        bool paused; // set by the artist
        bool adminPaused; // set by the platform admin; the artist cannot lift it
        bool locked; // manifest and cap frozen forever
        uint128 price;
        uint16 royaltyBps;
        bytes32 manifestHash;
        string name;
        string manifestCID;
    }

    /// @notice What the oracle stores per token.
    struct Fulfillment {
        bytes32 seed;
        string metadataCID;
    }

    /// @notice Id the next `createProject` will return; project ids start at 1.
    uint256 public nextProjectId = 1;
    /// @notice Receives the platform share of every mint.
    address public platformPayout;
    /// @notice `tokenURI` of a minted token before the oracle fulfills it.
    string public placeholderURI;

    mapping(uint256 projectId => Project) private _projects;
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
        uint256 price,
        uint256 maxEditions
    );
    /// @notice The artist paused or unpaused minting.
    event ProjectPausedSet(uint256 indexed projectId, bool paused);
    /// @notice The platform admin paused or unpaused minting.
    event ProjectAdminPausedSet(uint256 indexed projectId, bool adminPaused);
    /// @notice The price of future mints changed.
    event ProjectPriceSet(uint256 indexed projectId, uint256 price);
    /// @notice The edition cap was lowered.
    event ProjectMaxEditionsSet(uint256 indexed projectId, uint256 maxEditions);
    /// @notice The style manifest changed (only possible before locking).
    event ProjectManifestSet(uint256 indexed projectId, string manifestCID, bytes32 manifestHash);
    /// @notice The secondary-sale royalty changed.
    event ProjectRoyaltySet(uint256 indexed projectId, uint256 royaltyBps);
    /// @notice Manifest and cap are frozen from now on.
    event ProjectLocked(uint256 indexed projectId);
    /// @notice A token was minted; the oracle derives the seed from this log's transaction and block.
    /// @param manifestHash the manifest in force at the mint, which the render must use.
    event Mint(uint256 indexed tokenId, uint256 indexed projectId, address indexed minter, bytes32 manifestHash);
    /// @notice The oracle attached the token's seed and metadata.
    event TokenFulfilled(uint256 indexed tokenId, bytes32 seed, string metadataCID);
    /// @notice A payee's credit grew from a sale.
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
    /// @notice `msg.value` must equal the project's price exactly.
    error WrongPayment(uint256 expected, uint256 sent);
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
    /// @notice The fulfillment names a mint block that is not (or no longer) canonical.
    error StaleMint(uint256 tokenId, uint256 mintBlockNumber, bytes32 mintBlockHash);
    /// @notice The caller has no credit to withdraw.
    error NothingToWithdraw(address payee);
    /// @notice The recipient refused the payment; the credit is kept.
    error WithdrawFailed(address to, uint256 amount);

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

    modifier existingProject(uint256 projectId) {
        if (_projects[projectId].artist == address(0)) revert UnknownProject(projectId);
        _;
    }

    /// @param admin platform admin (pauses any project, sets payout and placeholder, manages roles)
    /// @param payout receives the platform share
    /// @param oracle account allowed to fulfill tokens
    /// @param placeholder `tokenURI` before fulfillment
    constructor(address admin, address payout, address oracle, string memory placeholder)
        ERC721("StyleMint", "STYLE")
    {
        if (admin == address(0) || payout == address(0) || oracle == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ROLE, oracle);
        platformPayout = payout;
        placeholderURI = placeholder;
        emit PlatformPayoutSet(address(0), payout);
        emit PlaceholderURISet(placeholder);
    }

    // ---------------------------------------------------------------- artists

    /// @notice Open a style project; the caller becomes its artist. It starts paused.
    /// @param projectName display name, 1..64 bytes
    /// @param manifestCID CID of the pinned style manifest
    /// @param manifestHash sha256 of the manifest's canonical JSON bytes (as the renderer computes it)
    /// @param price exact price of one mint, in wei
    /// @param maxEditions edition cap, 1..1,000,000
    /// @return projectId the new project's id
    function createProject(
        string calldata projectName,
        string calldata manifestCID,
        bytes32 manifestHash,
        uint256 price,
        uint256 maxEditions
    ) external returns (uint256 projectId) {
        if (bytes(projectName).length == 0 || bytes(projectName).length > MAX_NAME_LENGTH) revert InvalidName();
        _checkManifest(manifestCID, manifestHash);
        if (price > type(uint128).max) revert InvalidPrice(price);
        if (maxEditions == 0 || maxEditions > ONE_MILLION) revert InvalidMaxEditions(maxEditions, 1, ONE_MILLION);

        projectId = nextProjectId++;
        Project storage project = _projects[projectId];
        project.artist = msg.sender;
        project.maxEditions = uint32(maxEditions);
        project.paused = true;
        project.price = uint128(price);
        project.manifestHash = manifestHash;
        project.name = projectName;
        project.manifestCID = manifestCID;
        emit ProjectCreated(projectId, msg.sender, projectName, manifestCID, manifestHash, price, maxEditions);
    }

    /// @notice Pause or unpause minting of one of the caller's projects.
    /// @param projectId the project
    /// @param paused true to stop minting, false to allow it (unless the admin paused it)
    function setProjectPaused(uint256 projectId, bool paused) external onlyArtist(projectId) {
        _projects[projectId].paused = paused;
        emit ProjectPausedSet(projectId, paused);
    }

    /// @notice Set the price of future mints.
    /// @param projectId the project
    /// @param price exact price in wei
    function setProjectPrice(uint256 projectId, uint256 price) external onlyArtist(projectId) {
        if (price > type(uint128).max) revert InvalidPrice(price);
        _projects[projectId].price = uint128(price);
        emit ProjectPriceSet(projectId, price);
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

    /// @notice Freeze manifest and edition cap forever, so nothing that changes a render can change.
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
        onlyRole(DEFAULT_ADMIN_ROLE)
        existingProject(projectId)
    {
        _projects[projectId].adminPaused = adminPaused;
        emit ProjectAdminPausedSet(projectId, adminPaused);
    }

    /// @notice Set where future platform shares are credited (past credits stay with their payee).
    /// @param payout the new payout address
    function setPlatformPayout(address payout) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (payout == address(0)) revert ZeroAddress();
        emit PlatformPayoutSet(platformPayout, payout);
        platformPayout = payout;
    }

    /// @notice Set the `tokenURI` of tokens not yet fulfilled.
    /// @param placeholder the new URI
    function setPlaceholderURI(string calldata placeholder) external onlyRole(DEFAULT_ADMIN_ROLE) {
        placeholderURI = placeholder;
        emit PlaceholderURISet(placeholder);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    // ---------------------------------------------------------------- collectors

    /// @notice Mint the next edition of a project to the caller, paying its exact price.
    /// @dev Exact payment (no refund) keeps the mint free of any outgoing call. The token is
    /// minted with `_mint`, not `_safeMint`: the minter is the caller, so no receiver hook runs.
    /// @param projectId the project
    /// @return tokenId `projectId * 1_000_000 + invocation`
    function mint(uint256 projectId) external payable nonReentrant returns (uint256 tokenId) {
        Project storage project = _projects[projectId];
        address artist = project.artist;
        if (artist == address(0)) revert UnknownProject(projectId);
        if (project.paused || project.adminPaused) revert ProjectPaused(projectId);
        uint256 invocation = project.invocations;
        if (invocation >= project.maxEditions) revert SoldOut(projectId);
        uint256 price = project.price;
        if (msg.value != price) revert WrongPayment(price, msg.value);

        project.invocations = uint32(invocation + 1);
        tokenId = projectId * ONE_MILLION + invocation;
        if (price != 0) {
            (uint256 artistShare, uint256 platformShare) = splitPrice(price);
            _credit(artist, artistShare);
            _credit(platformPayout, platformShare);
        }
        _mint(msg.sender, tokenId);
        emit Mint(tokenId, projectId, msg.sender, project.manifestHash);
    }

    /// @notice Withdraw the caller's whole credit to itself.
    function withdraw() external {
        _withdraw(payable(msg.sender));
    }

    /// @notice Withdraw the caller's whole credit to another address (for payees that cannot receive ether).
    /// @param to the recipient
    function withdrawTo(address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(to);
    }

    // ---------------------------------------------------------------- oracle

    /// @notice Attach a minted token's seed and metadata; once per token.
    /// @dev `mintBlockNumber` and `mintBlockHash` say which chain the oracle derived the seed
    /// from. While that block is within the EVM's 256-block `blockhash` window, a fulfillment
    /// signed for a mint position that a reorg has since replaced reverts with `StaleMint`
    /// instead of landing with a seed from a block that is no longer canonical (a block's hash
    /// fixes its transactions, so an unchanged hash means the mint is still where it was).
    /// Older than the window, a reorg is beyond Ethereum's finality and the check is skipped (as
    /// it is for the current block, which `eth_call` and gas estimates may run in).
    /// @param tokenId the token
    /// @param seed `keccak256(mintTxHash ‖ mintBlockHash)`
    /// @param metadataCID CID of the pinned ERC-721 metadata JSON
    /// @param mintBlockNumber number of the block holding the token's mint
    /// @param mintBlockHash hash of that block as the oracle saw it
    function fulfill(
        uint256 tokenId,
        bytes32 seed,
        string calldata metadataCID,
        uint256 mintBlockNumber,
        bytes32 mintBlockHash
    ) external onlyRole(ORACLE_ROLE) {
        if (_ownerOf(tokenId) == address(0)) revert TokenNotMinted(tokenId);
        Fulfillment storage fulfillment = _fulfillments[tokenId];
        if (fulfillment.seed != bytes32(0)) revert AlreadyFulfilled(tokenId);
        if (seed == bytes32(0)) revert ZeroHash();
        if (bytes(metadataCID).length == 0 || bytes(metadataCID).length > MAX_CID_LENGTH) revert InvalidCID();
        bytes32 canonical = blockhash(mintBlockNumber);
        if (canonical != bytes32(0) && canonical != mintBlockHash) revert StaleMint(tokenId, mintBlockNumber, mintBlockHash);
        fulfillment.seed = seed;
        fulfillment.metadataCID = metadataCID;
        emit TokenFulfilled(tokenId, seed, metadataCID);
        emit MetadataUpdate(tokenId);
    }

    // ---------------------------------------------------------------- views

    /// @notice The split of one sale; the one place where it is computed.
    /// @dev The platform's share rounds down and the artist gets the rest, so the two always add
    /// up to `price` and no wei is left unassigned. `mulDiv` gives `floor(price * 1000 / 10000)`
    /// without overflowing for any uint256.
    /// @param price sale price in wei
    /// @return artistShare 90 % (plus any rounding remainder)
    /// @return platformShare 10 %, rounded down
    function splitPrice(uint256 price) public pure returns (uint256 artistShare, uint256 platformShare) {
        platformShare = Math.mulDiv(price, PLATFORM_SHARE_BPS, BPS_DENOMINATOR);
        artistShare = price - platformShare;
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

    /// @notice The metadata CID of a token; empty until fulfilled.
    /// @param tokenId the token
    /// @return the CID string
    function tokenMetadataCID(uint256 tokenId) external view returns (string memory) {
        _requireMinted(tokenId);
        return _fulfillments[tokenId].metadataCID;
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
        Fulfillment storage fulfillment = _fulfillments[tokenId];
        if (fulfillment.seed == bytes32(0)) return placeholderURI;
        return string.concat("ipfs://", fulfillment.metadataCID);
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

    /// @notice ERC-165: ERC-721 (+ metadata), ERC-2981, ERC-4906 and AccessControl.
    /// @param interfaceId the interface id
    /// @return whether it is supported
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControl, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC2981).interfaceId || interfaceId == ERC4906_INTERFACE_ID
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    function _checkManifest(string calldata manifestCID, bytes32 manifestHash) private pure {
        if (bytes(manifestCID).length == 0 || bytes(manifestCID).length > MAX_CID_LENGTH) revert InvalidCID();
        if (manifestHash == bytes32(0)) revert ZeroHash();
    }

    function _credit(address payee, uint256 amount) private {
        _credits[payee] += amount;
        emit Credited(payee, amount);
    }

    /// @dev Checks-effects-interactions: the credit is zeroed before the call, restored by the
    /// revert if the recipient refuses, and the guard stops re-entry into mint or withdraw.
    function _withdraw(address payable to) private nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed(to, amount);
    }

    function _requireMinted(uint256 tokenId) private view {
        if (_ownerOf(tokenId) == address(0)) revert TokenNotMinted(tokenId);
    }
}
