// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IStyleMinter: what every stylemint minter offers the app
/// @notice A minter sells the projects that chose it (`StyleMint.setProjectMinter`) by its own
/// rules and calls `StyleMint.mintFromMinter` with the amount the token's escrow holds. The app
/// reads a project's price through `priceInfo` and buys with `purchase`/`purchaseTo`, whatever
/// the minter's kind.
interface IStyleMinter {
    /// @notice A short name of the sale mechanics, e.g. "MinterSetPrice".
    function minterType() external view returns (string memory);

    /// @notice Whether the artist configured the project's sale here, and what one edition costs now.
    function priceInfo(uint256 projectId) external view returns (bool configured, uint256 price);

    /// @notice Buy the next edition for the caller, paying `priceInfo`'s price.
    function purchase(uint256 projectId, bytes32 expectedManifestHash) external payable returns (uint256 tokenId);

    /// @notice Buy the next edition for `to` (a gift, a smart-contract wallet), paid by the caller.
    function purchaseTo(address to, uint256 projectId, bytes32 expectedManifestHash)
        external
        payable
        returns (uint256 tokenId);
}
