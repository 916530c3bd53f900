// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BareERC721: the gas floor for bench/gas.py
/// @notice A plain OpenZeppelin ERC-721 with an owner-only `safeMint`, nothing else.
contract BareERC721 is ERC721, Ownable {
    constructor() ERC721("Bare", "BARE") Ownable(msg.sender) {}

    /// @notice Mint `tokenId` to `to` through OpenZeppelin's `_safeMint`.
    function safeMint(address to, uint256 tokenId) external onlyOwner {
        _safeMint(to, tokenId);
    }
}
