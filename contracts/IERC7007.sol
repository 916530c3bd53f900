// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title ERC-7007: verifiable AI-generated content token (Final), ERC-165 id 0x702c55a6
/// @dev Written from the standard's text; OpenZeppelin does not ship it.
interface IERC7007 is IERC165 {
    /// @notice AI-generated content was attached to `tokenId`.
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes aigcData, bytes proof);

    /// @notice Attach AI-generated content to `tokenId`, given its prompt, the content and a proof.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external;

    /// @notice Whether `proof` shows that `aigcData` is the output for `prompt`.
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success);
}
