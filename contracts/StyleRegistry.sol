// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The one thing the registry reads from a StyleMint: which project ids exist.
interface IProjectIds {
    function nextProjectId() external view returns (uint256);
}

/// @title StyleRegistry: the opt-in style library
/// @notice A style enters the library only when its owner registers it: its name, the trigger
/// word(s) that invoke it in a prompt, its adapter (LoRA or textual inversion) by CID and sha256,
/// and its owner's terms (open to any project, or only to projects the owner approves). Only the
/// owner retires it (no new use; existing tokens stay as they are), changes its terms, approves
/// projects, or hands it over, in two steps (the new owner accepts).
/// @dev Kept apart from StyleMint: the library is read by projects and the oracle, and StyleMint's
/// code is near the 24 KiB limit. `mayUse` is the one rule for "may this project use this style".
contract StyleRegistry {
    /// @notice Longest accepted style name, in bytes.
    uint256 public constant MAX_NAME_LENGTH = 64;
    /// @notice Longest accepted trigger, in bytes (lowercase words: a-z, 0-9, single spaces).
    uint256 public constant MAX_TRIGGER_LENGTH = 64;
    /// @notice Longest accepted CID string (a CIDv1 base32 sha2-256 is 59 characters).
    uint256 public constant MAX_CID_LENGTH = 100;

    /// @notice Who may use a style: any project, or only projects its owner approved.
    enum Terms {
        Open,
        ApprovedOnly
    }

    /// @notice One registered style.
    struct Style {
        address owner;
        bool retired;
        Terms terms;
        bytes32 adapterHash; // sha256 of the adapter file
        string name;
        string trigger;
        string adapterCID;
    }

    /// @notice Id the next `registerStyle` will return; style ids start at 1.
    uint256 public nextStyleId = 1;
    /// @notice The account a style's owner offered it to, until it accepts (zero: none).
    mapping(uint256 styleId => address) public pendingOwner;
    /// @notice Projects a style's owner approved (what `ApprovedOnly` terms admit), keyed by the
    /// StyleMint deployment as well: project ids are per deployment, and a registry may serve several.
    mapping(uint256 styleId => mapping(address styleMint => mapping(uint256 projectId => bool))) public projectApproved;

    /// @notice The style each adapter file (by sha256) is registered as: one owner per adapter.
    mapping(bytes32 adapterHash => uint256 styleId) public styleOfAdapter;

    mapping(uint256 styleId => Style) private _styles;

    /// @notice A style entered the library.
    event StyleRegistered(
        uint256 indexed styleId,
        address indexed owner,
        string name,
        string trigger,
        string adapterCID,
        bytes32 adapterHash,
        Terms terms
    );
    /// @notice A style was retired: no new use.
    event StyleRetired(uint256 indexed styleId);
    /// @notice A style's terms changed.
    event StyleTermsSet(uint256 indexed styleId, Terms terms);
    /// @notice A style's owner approved (or withdrew approval of) a project.
    event StyleProjectApprovalSet(uint256 indexed styleId, address indexed styleMint, uint256 indexed projectId,
        bool approved);
    /// @notice A style's owner offered it to another account (zero: offer withdrawn).
    event StyleOwnershipTransferStarted(uint256 indexed styleId, address indexed owner, address indexed pendingOwner);
    /// @notice A style changed owner.
    event StyleOwnershipTransferred(uint256 indexed styleId, address indexed previousOwner, address indexed newOwner);

    /// @notice No style has this id.
    error UnknownStyle(uint256 styleId);
    /// @notice Only the style's owner may do this.
    error NotStyleOwner(uint256 styleId, address caller);
    /// @notice The style is retired.
    error StyleIsRetired(uint256 styleId);
    /// @notice The name must be 1..64 bytes.
    error InvalidStyleName();
    /// @notice The trigger must be 1..64 bytes of lowercase words (a-z, 0-9) separated by single spaces.
    error InvalidTrigger();
    /// @notice The adapter needs a CID of 1..100 bytes and a nonzero sha256.
    error InvalidAdapter();
    /// @notice That StyleMint has no such project (yet): an approval names one that exists.
    error UnknownProject(address styleMint, uint256 projectId);
    /// @notice This adapter file (sha256) is already registered, as `styleId`: an adapter has one owner.
    error AdapterAlreadyRegistered(bytes32 adapterHash, uint256 styleId);
    /// @notice Only the account the style was offered to may accept it.
    error NotPendingOwner(uint256 styleId, address caller);

    modifier onlyStyleOwner(uint256 styleId) {
        address owner = _styles[styleId].owner;
        if (owner == address(0)) revert UnknownStyle(styleId);
        if (owner != msg.sender) revert NotStyleOwner(styleId, msg.sender);
        _;
    }

    modifier notRetired(uint256 styleId) {
        if (_styles[styleId].retired) revert StyleIsRetired(styleId);
        _;
    }

    // ---------------------------------------------------------------- owners

    /// @notice Register a style; the caller becomes its owner.
    /// @param name display name, 1..64 bytes
    /// @param trigger the word(s) that invoke the style in a prompt
    /// @param adapterCID CID of the pinned adapter file
    /// @param adapterHash sha256 of the adapter file
    /// @param terms open to any project, or only to approved ones
    /// @return styleId the new style's id
    function registerStyle(
        string calldata name,
        string calldata trigger,
        string calldata adapterCID,
        bytes32 adapterHash,
        Terms terms
    ) external returns (uint256 styleId) {
        if (bytes(name).length == 0 || bytes(name).length > MAX_NAME_LENGTH) revert InvalidStyleName();
        if (!_validTrigger(bytes(trigger))) revert InvalidTrigger();
        if (bytes(adapterCID).length == 0 || bytes(adapterCID).length > MAX_CID_LENGTH || adapterHash == bytes32(0)) {
            revert InvalidAdapter();
        }
        uint256 existing = styleOfAdapter[adapterHash];
        if (existing != 0) revert AdapterAlreadyRegistered(adapterHash, existing);
        styleId = nextStyleId++;
        styleOfAdapter[adapterHash] = styleId;
        Style storage style = _styles[styleId];
        style.owner = msg.sender;
        style.terms = terms;
        style.adapterHash = adapterHash;
        style.name = name;
        style.trigger = trigger;
        style.adapterCID = adapterCID;
        emit StyleRegistered(styleId, msg.sender, name, trigger, adapterCID, adapterHash, terms);
    }

    /// @notice Retire a style for good: no new or unlocked project may use it. A locked project
    /// that blends it keeps minting its remaining editions and paying this style (consent given
    /// to a locked project is a licence), and tokens already minted are paid as sold.
    /// @param styleId the style
    function retireStyle(uint256 styleId) external onlyStyleOwner(styleId) notRetired(styleId) {
        _styles[styleId].retired = true;
        emit StyleRetired(styleId);
    }

    /// @notice Change who may use the style.
    /// @param styleId the style
    /// @param terms open to any project, or only to approved ones
    function setStyleTerms(uint256 styleId, Terms terms) external onlyStyleOwner(styleId) notRetired(styleId) {
        _styles[styleId].terms = terms;
        emit StyleTermsSet(styleId, terms);
    }

    /// @notice Approve a project of a StyleMint deployment to use the style (or withdraw the
    /// approval). Only a project that exists can be approved: an id approved before its project
    /// was created would go to whoever created it.
    /// @param styleId the style
    /// @param styleMint the StyleMint deployment the project belongs to
    /// @param projectId the project
    /// @param approved true to approve
    function setProjectApproval(uint256 styleId, address styleMint, uint256 projectId, bool approved)
        external
        onlyStyleOwner(styleId)
        notRetired(styleId)
    {
        if (approved && (projectId == 0 || styleMint.code.length == 0
                || projectId >= IProjectIds(styleMint).nextProjectId())) {
            revert UnknownProject(styleMint, projectId);
        }
        projectApproved[styleId][styleMint][projectId] = approved;
        emit StyleProjectApprovalSet(styleId, styleMint, projectId, approved);
    }

    /// @notice Offer the style to another account, which takes it with `acceptStyleOwnership`
    /// (zero withdraws the offer).
    /// @param styleId the style
    /// @param newOwner the account offered the style
    function transferStyleOwnership(uint256 styleId, address newOwner) external onlyStyleOwner(styleId) {
        pendingOwner[styleId] = newOwner;
        emit StyleOwnershipTransferStarted(styleId, msg.sender, newOwner);
    }

    /// @notice Take a style offered to the caller.
    /// @param styleId the style
    function acceptStyleOwnership(uint256 styleId) external {
        if (pendingOwner[styleId] != msg.sender || msg.sender == address(0)) revert NotPendingOwner(styleId, msg.sender);
        address previous = _styles[styleId].owner;
        delete pendingOwner[styleId];
        _styles[styleId].owner = msg.sender;
        emit StyleOwnershipTransferred(styleId, previous, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @notice Everything about one style.
    /// @param styleId the style
    /// @return the style
    function styleInfo(uint256 styleId) external view returns (Style memory) {
        if (_styles[styleId].owner == address(0)) revert UnknownStyle(styleId);
        return _styles[styleId];
    }

    /// @notice Who is paid for a style now: its current owner, retired or not (StyleMint reads this
    /// at every fulfillment, so a style's earnings follow its ownership).
    /// @param styleId the style
    /// @return owner the owner (zero for an unknown style)
    function stylePayee(uint256 styleId) external view returns (address owner) {
        return _styles[styleId].owner;
    }

    /// @notice Who owns a style now, and whether it is retired.
    /// @param styleId the style
    /// @return owner the owner (zero for an unknown style)
    /// @return retired true once retired
    function styleOwner(uint256 styleId) external view returns (address owner, bool retired) {
        Style storage style = _styles[styleId];
        return (style.owner, style.retired);
    }

    /// @notice Whether a project may use a style now: it exists, is not retired, and is open or
    /// approved for that project (of that StyleMint) by its owner.
    /// @param styleId the style
    /// @param styleMint the StyleMint deployment the project belongs to
    /// @param projectId the project
    /// @return allowed true if the project may use it
    function mayUse(uint256 styleId, address styleMint, uint256 projectId) external view returns (bool allowed) {
        Style storage style = _styles[styleId];
        return style.owner != address(0) && !style.retired
            && (style.terms == Terms.Open || projectApproved[styleId][styleMint][projectId]);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Lowercase words of a-z and 0-9 separated by single spaces, 1..64 bytes (what the
    /// manifest's `trigger` accepts, so a registered trigger is always a valid manifest trigger).
    function _validTrigger(bytes calldata trigger) private pure returns (bool) {
        uint256 length = trigger.length;
        if (length == 0 || length > MAX_TRIGGER_LENGTH) return false;
        for (uint256 i = 0; i < length; ++i) {
            bytes1 c = trigger[i];
            bool letter = c >= "a" && c <= "z";
            bool digit = c >= "0" && c <= "9";
            bool space = c == " " && i > 0 && i + 1 < length && trigger[i - 1] != " ";
            if (!letter && !digit && !space) return false;
            if (digit && (i == 0 || trigger[i - 1] == " ")) return false; // each word starts with a letter
        }
        return true;
    }
}
